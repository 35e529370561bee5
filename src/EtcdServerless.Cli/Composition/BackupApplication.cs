using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Retention;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Composition;

/// <summary>
/// The composition root of the CLI and <c>serve</c>: the configured stores, the catalog, the in-process
/// orchestration runner with the backup and restore orchestrations and their activities, and the operations
/// the verbs and the HTTP API call.
/// </summary>
internal sealed partial class BackupApplication : IBackupOperations, IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    private BackupApplication(EtcdBackupOptions options, IBackupStore store, IKeyStore keys, TimeProvider time, ILoggerFactory loggerFactory, BackupPipelineOptions? pipeline)
    {
        Options = options;
        Store = store;
        Keys = keys;
        Time = time;
        _loggerFactory = loggerFactory;
        Catalog = new BackupCatalog(store, time);
        Environment = new BackupEnvironment(options, store, keys, pipeline: pipeline, timeProvider: time, loggerFactory: loggerFactory);
        var registry = new OrchestrationRegistry();
        RegisterOrchestrations(registry);
        Runner = new InProcessOrchestrationRunner(registry, time, loggerFactory);
    }

    public EtcdBackupOptions Options { get; }

    public IBackupStore Store { get; }

    public IKeyStore Keys { get; }

    public TimeProvider Time { get; }

    public BackupCatalog Catalog { get; }

    public BackupEnvironment Environment { get; }

    public InProcessOrchestrationRunner Runner { get; }

    /// <summary>Builds the application from validated options.</summary>
    public static BackupApplication Create(EtcdBackupOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null, BackupPipelineOptions? pipeline = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        time ??= TimeProvider.System;
        var store = StoreFactory.CreateBackupStore(options.Store, time, loggerFactory);
        var keys = StoreFactory.CreateKeyStore(options.Keys, options.Store, time, loggerFactory);
        return new BackupApplication(options, store, keys, time, loggerFactory, pipeline);
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

    /// <inheritdoc/>
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

    /// <inheritdoc/>
    public Task<OrchestrationStartResult> StartBackupAsync(string cluster, string trigger, CancellationToken cancellationToken = default)
    {
        Options.GetCluster(cluster);
        var now = Time.GetUtcNow();
        var kind = string.Equals(trigger, "schedule", StringComparison.Ordinal) ? BackupTrigger.Scheduled : BackupTrigger.OnDemand;

        // One backup per cluster at a time: overlapping triggers join the running instance.
        return Runner.StartBackupAsync(cluster, kind, now, cancellationToken: cancellationToken);
    }

    /// <summary>Runs one backup to the end (or joins the running one) and returns its result.</summary>
    public async Task<BackupResult> RunBackupAsync(string cluster, string trigger, CancellationToken cancellationToken = default)
    {
        var started = await StartBackupAsync(cluster, trigger, cancellationToken).ConfigureAwait(false);
        var state = await Runner.WaitForCompletionAsync(started.InstanceId, cancellationToken).ConfigureAwait(false);
        if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            var reason = state.Failure is null ? state.RuntimeStatus.ToString() : $"{state.Failure.ErrorMessage}";
            return new BackupResult { Cluster = cluster, Succeeded = false, Message = reason, FailedPhase = "orchestration" };
        }

        return state.ReadOutputAs<BackupResult>() ?? throw new InvalidDataException($"backup instance {state.InstanceId} completed without a result");
    }

    /// <inheritdoc/>
    public OrchestrationState? GetInstance(string instanceId) => Runner.GetStatus(instanceId);

    /// <inheritdoc/>
    public Task<IReadOnlyList<BackupManifest>> ListBackupsAsync(string cluster, CancellationToken cancellationToken = default) =>
        Catalog.ListAsync(cluster, cancellationToken);

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
        var executor = new RetentionExecutor(Catalog, Time, _loggerFactory.CreateLogger<RetentionExecutor>());
        return executor.RunAsync(cluster, Options.GetCluster(cluster).Retention, dryRun, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Runner.DisposeAsync().ConfigureAwait(false);
        _agents?.Dispose();
    }
}
