using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Monitoring;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Retention;
using EtcdServerless.Core.Storage;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Http;
using EtcdServerless.Workflows.Instances;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Composition;

/// <summary>
/// The CLI's and <c>serve</c>'s view of the one composition (<see cref="EtcdBackupServices"/>): the configured
/// stores, the catalog, and the backup and restore orchestrations run by the in-process Durable Task engine
/// through the same <see cref="WorkflowGateway"/> the Function App uses.
/// </summary>
internal sealed class BackupApplication : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private BackupApplication(ServiceProvider services)
    {
        _services = services;
        Options = services.GetRequiredService<EtcdBackupOptions>();
        Store = services.GetRequiredService<IBackupStore>();
        Keys = services.GetRequiredService<IKeyStore>();
        Time = services.GetRequiredService<TimeProvider>();
        Catalog = services.GetRequiredService<BackupCatalog>();
        Environment = services.GetRequiredService<BackupEnvironment>();
        Gateway = services.GetRequiredService<WorkflowGateway>();
    }

    public EtcdBackupOptions Options { get; }

    public IBackupStore Store { get; }

    public IKeyStore Keys { get; }

    public TimeProvider Time { get; }

    public BackupCatalog Catalog { get; }

    public BackupEnvironment Environment { get; }

    /// <summary>Starts and observes orchestrations (one backup and one restore per cluster at a time).</summary>
    public WorkflowGateway Gateway { get; }

    /// <summary>The product's metrics (one meter per application; exporters subscribe by its name).</summary>
    public BackupMetrics Metrics => _services.GetRequiredService<BackupMetrics>();

    /// <summary>Reads each cluster's freshness, last failure and last drill from the store.</summary>
    public BackupStatusReader StatusReader => _services.GetRequiredService<BackupStatusReader>();

    /// <summary>The HTTP API over this application (registered when an API key was given).</summary>
    public BackupApi Api => _services.GetRequiredService<BackupApi>();

    /// <summary>Builds the application from validated options; <paramref name="apiKey"/> enables <see cref="Api"/>.</summary>
    public static BackupApplication Create(EtcdBackupOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null, BackupPipelineOptions? pipeline = null, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var services = new ServiceCollection()
            .AddSingleton(loggerFactory)
            .AddSingleton(time ?? TimeProvider.System)
            .AddEtcdBackup(options, pipeline)
            .AddInProcessWorkflows(apiKey)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false, ValidateScopes = true });
        try
        {
            // Resolve the stores now: a bad Store:Uri or Keys:Uri is a configuration error of this command.
            return new BackupApplication(services);
        }
        catch
        {
            services.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Removes what a crashed run (kill -9, power loss) left: staged partial writes in a local store and scratch
    /// files no live process holds. Returns how many files were removed.
    /// </summary>
    public async Task<int> CleanupLeftoversAsync(CancellationToken cancellationToken = default)
    {
        var removed = PrivateTempFiles.SweepLeftovers(PrivateTempFiles.EnsureFolder(Environment.Pipeline.TempDirectory));
        if (Store is LocalDirectoryBackupStore local)
        {
            removed += await local.CleanupStagingAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>True when the cluster is configured.</summary>
    public bool IsKnownCluster(string cluster) => Options.Clusters.ContainsKey(cluster);

    /// <summary>The named cluster, or every configured cluster in name order.</summary>
    public IReadOnlyList<string> SelectClusters(string? cluster)
    {
        if (cluster is not null)
        {
            Options.GetCluster(cluster);
            return [cluster];
        }

        if (Options.Clusters.Count == 0)
        {
            throw new InvalidOperationException("no cluster is configured (add Clusters:<name>:Endpoints to the configuration)");
        }

        return [.. Options.Clusters.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>Starts a backup of <paramref name="cluster"/>, or joins the one running for it.</summary>
    public Task<StartOutcome> StartBackupAsync(string cluster, BackupTrigger trigger, CancellationToken cancellationToken = default)
    {
        Options.GetCluster(cluster);
        return Gateway.StartBackupAsync(cluster, trigger, cancellationToken);
    }

    /// <summary>The client of the member agents (mutual TLS), when <c>Restore:AgentTls</c> is configured.</summary>
    public AgentClient? Agents => _services.GetService<AgentClient>();

    /// <summary>Starts a drill of <paramref name="backup"/> (an id or <c>latest</c>) of <paramref name="cluster"/>, or joins the running one.</summary>
    public Task<StartOutcome> StartDrillAsync(string cluster, string backup, BackupTrigger trigger, CancellationToken cancellationToken = default)
    {
        Options.GetCluster(cluster);
        return Gateway.StartDrillAsync(cluster, backup, trigger, cancellationToken);
    }

    /// <summary>Runs one backup to the end (or joins the running one) and returns its result.</summary>
    public async Task<BackupResult> RunBackupAsync(string cluster, BackupTrigger trigger, CancellationToken cancellationToken = default)
    {
        var started = await StartBackupAsync(cluster, trigger, cancellationToken).ConfigureAwait(false);
        var state = await Gateway.WaitForCompletionAsync(started.InstanceId, cancellationToken).ConfigureAwait(false);
        if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            var reason = state.FailureDetails is null ? state.RuntimeStatus.ToString() : InstanceStatusResponse.Innermost(state.FailureDetails);
            return new BackupResult { Cluster = cluster, Succeeded = false, Message = reason, FailedPhase = "orchestration" };
        }

        return state.ReadOutputAs<BackupResult>() ?? throw new InvalidDataException($"backup instance {state.InstanceId} completed without a result");
    }

    /// <summary>
    /// Starts a restore (or dry run) of <paramref name="request"/>'s cluster, or joins the identical one running.
    /// </summary>
    /// <exception cref="InvalidOperationException">Restores are not configured, or another restore of the cluster runs.</exception>
    public async Task<StartOutcome> StartRestoreAsync(RestoreApiRequest request, CancellationToken cancellationToken = default)
    {
        if (!RestoreRequests.AreConfigured(Options))
        {
            throw new InvalidOperationException(RestoreRequests.NotConfiguredMessage);
        }

        var started = await Gateway.StartRestoreAsync(ToRestoreRequest(request), cancellationToken).ConfigureAwait(false);
        return started.Conflict is { } conflict ? throw new InvalidOperationException(conflict) : started;
    }

    /// <summary>
    /// Starts a restore (or dry run) from a plain snapshot file read by this process (<c>restore run --from-file</c>);
    /// the file is checked in the plan phase, before any member is stopped.
    /// </summary>
    /// <exception cref="InvalidOperationException">Restores are not configured, or another restore of the cluster runs.</exception>
    public async Task<StartOutcome> StartRestoreFromFileAsync(RestoreApiRequest request, string file, bool skipHashCheck, CancellationToken cancellationToken = default)
    {
        if (!RestoreRequests.AreConfigured(Options))
        {
            throw new InvalidOperationException(RestoreRequests.NotConfiguredMessage);
        }

        var restore = ToRestoreRequest(request) with { FromFile = file, SkipHashCheck = skipHashCheck };
        var started = await Gateway.StartRestoreAsync(restore, cancellationToken).ConfigureAwait(false);
        return started.Conflict is { } conflict ? throw new InvalidOperationException(conflict) : started;
    }

    /// <summary>Maps an API/CLI request to the orchestration input; no members given = the cluster's configured members.</summary>
    public RestoreRequest ToRestoreRequest(RestoreApiRequest request) => RestoreRequests.Create(Options, request);

    /// <summary>
    /// Finds a backup by reference (an id, or <c>latest</c>) in <paramref name="cluster"/>, or in every configured
    /// cluster. <c>latest</c> needs the cluster unless only one is configured.
    /// </summary>
    /// <exception cref="ArgumentException">Not a backup reference, or <c>latest</c> without a cluster.</exception>
    /// <exception cref="KeyNotFoundException">No cluster has that backup.</exception>
    public async Task<BackupManifest> FindBackupAsync(string backupId, string? cluster, CancellationToken cancellationToken = default)
    {
        if (!BackupNaming.TryParseReference(backupId, out var latest, out var error))
        {
            throw new ArgumentException(error);
        }

        if (cluster is not null)
        {
            Options.GetCluster(cluster);
        }

        if (latest)
        {
            var name = cluster ?? (Options.Clusters.Count == 1 ? Options.Clusters.Keys.Single()
                : throw new ArgumentException($"'{BackupNaming.Latest}' needs --cluster: {Options.Clusters.Count} clusters are configured"));
            return await Catalog.GetLatestAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"cluster '{name}' has no backups in {Store.Description}");
        }

        IEnumerable<string> clusters = cluster is null ? Options.Clusters.Keys.Order(StringComparer.Ordinal) : [cluster];
        foreach (var name in clusters)
        {
            try
            {
                return await Catalog.GetAsync(name, backupId, cancellationToken).ConfigureAwait(false);
            }
            catch (BackupObjectNotFoundException)
            {
            }
        }

        throw new KeyNotFoundException($"backup '{backupId}' not found in {Store.Description}{(cluster is null ? "" : $" for cluster '{cluster}'")}");
    }

    /// <summary>Applies (or with <paramref name="dryRun"/> plans) the cluster's retention policy.</summary>
    public Task<RetentionResult> PruneAsync(string cluster, bool dryRun, CancellationToken cancellationToken = default)
    {
        var executor = new RetentionExecutor(Catalog, Time, _services.GetRequiredService<ILoggerFactory>().CreateLogger<RetentionExecutor>());
        return executor.RunAsync(cluster, Options.GetCluster(cluster).Retention, dryRun, cancellationToken);
    }

    /// <summary>Downloads, decrypts and re-checks the backup against its manifest (hashes, bbolt structure, revision, keys).</summary>
    public Task<BackupVerificationResult> VerifyAsync(BackupManifest manifest, CancellationToken cancellationToken = default) =>
        new BackupVerifier(Store, Keys, Environment.Pipeline.TempDirectory).VerifyAsync(manifest, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        // The engine cancels running orchestrations' activities and waits for them before the stores go away.
        await _services.GetRequiredService<DurableTaskClient>().DisposeAsync().ConfigureAwait(false);
        await _services.DisposeAsync().ConfigureAwait(false);
    }
}
