using Azure.Security.KeyVault.Secrets;
using EtcdServerless.Core.Backup;
using Azure.Monitor.OpenTelemetry.Exporter;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Monitoring;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EtcdServerless.Functions;

/// <summary>The Function App's services: the one composition (<see cref="EtcdBackupServices"/>) from app settings.</summary>
internal static class FunctionsComposition
{
    /// <summary>App setting naming the user-assigned managed identity (empty = DefaultAzureCredential).</summary>
    public const string ManagedIdentityClientIdSetting = "AZURE_CLIENT_ID";

    /// <summary>App setting with the Application Insights connection string; set, the metrics are exported there.</summary>
    public const string AppInsightsConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>
    /// Registers options, clock, stores, keys, catalog, the activities' steps, the API key and the payload serializer.
    /// TLS settings that are Key Vault secret URIs are read here, once, before the host starts: the certificates stay
    /// in memory for the process's life (nothing on disk), and a missing secret or a denied identity stops the start.
    /// </summary>
    /// <param name="services">The worker's services.</param>
    /// <param name="configuration">App settings.</param>
    /// <param name="secretClients">The Key Vault client per vault URI; null = a <see cref="SecretClient"/> on the app's identity (tests pass the fake's).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<IServiceCollection> AddEtcdBackupFunctionsAsync(
        this IServiceCollection services,
        IConfiguration configuration,
        Func<Uri, SecretClient>? secretClients = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        // Configuration errors surface at start, naming the key, as the CLI reports them.
        var options = EtcdBackupConfiguration.Load(configuration, AppContext.BaseDirectory, "app settings");
        var credential = EtcdServerless.Azure.AzureCredentials.Create(configuration[ManagedIdentityClientIdSetting]);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(credential);
        var tls = await EtcdBackupServices.ResolveTlsAsync(options, secretClients ?? (vault => new SecretClient(vault, credential)), cancellationToken: cancellationToken).ConfigureAwait(false);
        services.AddEtcdBackup(options, new BackupPipelineOptions { ConsistencyCheck = configuration.GetValue("Backup:ConsistencyCheck", false) }, tls);
        services.AddSingleton(ApiKey.FromSetting(options.Api.ApiKey, "Function App: app setting Api__ApiKey, from Key Vault"));

        // The product's meter goes to Application Insights when the app has a component (Entra-authenticated ingestion:
        // the app's identity holds Monitoring Metrics Publisher on it; infra/modules/rbac.bicep).
        if (configuration[AppInsightsConnectionStringSetting] is { Length: > 0 } connectionString)
        {
            services.AddOpenTelemetry()
                .ConfigureResource(r => r.AddService("etcd-backup-functions"))
                .WithMetrics(m => m
                    .AddMeter(BackupMetrics.MeterName)
                    .AddAzureMonitorMetricExporter(o =>
                    {
                        o.ConnectionString = connectionString;
                        o.Credential = credential;
                    }));
        }

        // Durable payloads travel as the product's JSON (camelCase, enums as strings), exactly as in process.
        services.Configure<WorkerOptions>(o => o.Serializer = new global::Azure.Core.Serialization.JsonObjectSerializer(OrchestrationJson.Options));
        return services;
    }
}
