namespace EtcdServerless.Infra.Tests.Contract;

/// <summary>
/// The two explicit lists the app-settings contract needs besides the options classes, each entry with the
/// reason it exists. Edit these (with a reason) rather than the comparison.
/// </summary>
internal static class DeploymentContract
{
    /// <summary>
    /// Settings read by the Functions host, the platform or Azure SDKs rather than by EtcdBackupOptions.
    /// The Bicep must set every one of them.
    /// </summary>
    public static IReadOnlyDictionary<string, string> HostSettings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["AzureWebJobsStorage__accountName"] = "Functions host and Durable task hub storage, identity-based connection (no connection string: Shared Key is off).",
        ["AzureWebJobsStorage__credential"] = "'managedidentity': makes the AzureWebJobsStorage connection use a managed identity.",
        ["AzureWebJobsStorage__clientId"] = "Which managed identity: the app has only a user-assigned one.",
        ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "Telemetry destination for host and worker; the alerts read it.",
        ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Entra ingestion (the component has local auth disabled), with the user-assigned identity.",
        ["AZURE_CLIENT_ID"] = "Azure.Identity's DefaultAzureCredential picks the user-assigned identity from it for the Blob store and Key Vault clients.",
        ["TASKHUB_NAME"] = "host.json extensions.durableTask.hubName is %TASKHUB_NAME%: the Durable task hub (queues, tables, leases) in the host storage account.",
    };

    /// <summary>
    /// Option keys one environment may leave unset because the feature is off there. The templates must still
    /// be able to set each: the every-option sample (Samples/all-options.bicepparam) must set them all.
    /// </summary>
    public static IReadOnlyDictionary<string, string> OptionalPerEnvironment { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Clusters__*__Tls__CaFile"] = "Only for https endpoints whose CA is not publicly trusted.",
        ["Clusters__*__Tls__CertFile"] = "Only when etcd requires client certificates.",
        ["Clusters__*__Tls__KeyFile"] = "Only when etcd requires client certificates.",
        ["Clusters__*__Auth__Username"] = "Only when etcd user authentication is on.",
        ["Clusters__*__Auth__Password"] = "Only when etcd user authentication is on.",
        ["Clusters__*__Members__*__Name"] = "Only clusters restored through agents list their members.",
        ["Clusters__*__Members__*__PeerUrl"] = "Only clusters restored through agents list their members.",
        ["Clusters__*__Members__*__ClientUrl"] = "Only clusters restored through agents list their members.",
        ["Clusters__*__Members__*__AgentUrl"] = "Only clusters restored through agents list their members.",
        ["Restore__AgentTls__CertFile"] = "Only environments that restore through agents (mutual TLS).",
        ["Restore__AgentTls__KeyFile"] = "Only environments that restore through agents (mutual TLS).",
        ["Restore__AgentTls__CaFile"] = "Agents' CA, or pinned thumbprints instead, or neither without agents.",
        ["Restore__AgentTls__ServerThumbprints__*"] = "Pinned agent certificates, an alternative to the CA.",
        ["Clusters__*__Drill__Schedule"] = "Only clusters with scheduled restore drills.",
        ["Clusters__*__Drill__AgentUrl"] = "Only clusters with drills; on Azure they run on a member agent (a function cannot run etcd).",
        ["Clusters__*__Bundle__AgentUrl"] = "Only clusters that store a control-plane bundle with each backup.",
        ["Clusters__*__Deltas__Interval"] = "Only clusters with continuous (delta) protection.",
        ["Clusters__*__Deltas__MaterializeAgentUrl"] = "Only clusters whose point-in-time restores materialize on another agent than their drills' (a function cannot run etcd).",
    };

    /// <summary>
    /// Option keys the code reads that the Function App deliberately does not get. The Bicep must NOT set them.
    /// </summary>
    public static IReadOnlyDictionary<string, string> NotDeployed { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Store__AccountKey"] = "Shared Key is disabled on the backup account; the app authenticates with its managed identity (Azurite/dev only).",
        ["Store__SasToken"] = "No SAS on Azure: managed identity and RBAC instead (the role cannot touch immutability; a SAS could carry more).",
        ["Clusters__*__Auth__PasswordFile"] = "No files on a Function App: the password arrives as Clusters__<name>__Auth__Password, a Key Vault reference.",
        ["Api__Urls"] = "Listening addresses of `etcd-backup serve`; on Azure the Functions host owns the listener.",
        ["Api__MetricsUrls"] = "serve's unauthenticated /metrics listener; the Function App exports to Application Insights instead.",
        ["Api__KeepFinishedRuns"] = "How many finished runs serve's in-process engine keeps; on Azure Durable Task's history keeps them.",
        ["Api__KeepFinishedRunsMinutes"] = "How long serve's in-process engine keeps finished runs; on Azure Durable Task's history keeps them.",
        ["StrictConfiguration"] = "Turns unknown keys of a CLI config file into errors; the Function App's settings are the compiled template, checked key by key by these contract tests.",
        ["Store__S3__ServiceUrl"] = S3NotOnAzure,
        ["Store__S3__Region"] = S3NotOnAzure,
        ["Store__S3__ForcePathStyle"] = S3NotOnAzure,
        ["Store__S3__AccessKeyId"] = S3NotOnAzure,
        ["Store__S3__SecretAccessKey"] = S3NotOnAzure,
        ["Store__S3__ServerSideEncryption"] = S3NotOnAzure,
        ["Store__S3__KmsKeyId"] = S3NotOnAzure,
        ["Store__S3__ObjectLockMode"] = S3NotOnAzure,
        ["Store__S3__PartSizeMiB"] = S3NotOnAzure,
        ["Clusters__*__MaxAge"] = "Freshness threshold of `backup status` (CLI); on Azure the stale-backup alert covers freshness. Default 2x the schedule interval.",
        ["Clusters__*__Retention__MaxAgeDays"] = "Not in the templates yet (issue 14 added it for the CLI; the Bicep owner decides whether Azure environments expose it). Off (0) when unset.",
    };

    private const string S3NotOnAzure = "The Azure deployment keeps backups in its immutable Blob container; S3 stores (s3://) are for the CLI and serve elsewhere.";

    /// <summary>Settings that must not appear: deprecated or rejected on Flex Consumption (azure.md §2.3).</summary>
    public static IReadOnlyDictionary<string, string> ForbiddenOnFlex { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["FUNCTIONS_WORKER_RUNTIME"] = "Flex takes the runtime from functionAppConfig.runtime.",
        ["FUNCTIONS_EXTENSION_VERSION"] = "Flex runs host 4.x only and rejects the setting.",
        ["WEBSITE_RUN_FROM_PACKAGE"] = "Flex deploys from functionAppConfig.deployment.storage.",
        ["WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"] = "No content share on Flex.",
        ["WEBSITE_CONTENTSHARE"] = "No content share on Flex.",
        ["WEBSITE_TIME_ZONE"] = "Not supported on Flex; schedules are UTC.",
        ["TZ"] = "Not supported on Flex; schedules are UTC.",
        ["AzureWebJobsStorage"] = "A connection string needs Shared Key, which is disabled; use the identity-based AzureWebJobsStorage__* form.",
    };
}
