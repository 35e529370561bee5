using EtcdServerless.Core.Orchestration;

namespace EtcdServerless.Core.Backup;

/// <summary>Registers the backup orchestration and its activities.</summary>
internal static class BackupRegistration
{
    /// <summary>Adds <see cref="BackupOrchestration"/> and its activities over <paramref name="environment"/>.</summary>
    public static OrchestrationRegistry AddBackup(this OrchestrationRegistry registry, BackupEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(environment);
        return registry
            .AddOrchestrator(new BackupOrchestration(environment.Pipeline, environment.LoggerFactory))
            .AddActivity(new CaptureSnapshotActivity(environment))
            .AddActivity(new ConsistencyCheckActivity(environment))
            .AddActivity(new WriteManifestActivity(environment))
            .AddActivity(new ApplyRetentionActivity(environment));
    }

    /// <summary>
    /// Starts a backup on the in-process runner with the one-backup-per-cluster rule: a second start while one
    /// runs returns the running instance (<see cref="OrchestrationStartResult.Deduplicated"/>).
    /// </summary>
    public static Task<OrchestrationStartResult> StartBackupAsync(
        this InProcessOrchestrationRunner runner, string cluster, BackupTrigger trigger, DateTimeOffset requestedAt, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return runner.StartAsync(
            BackupOrchestration.OrchestratorName,
            instanceId ?? BackupOrchestration.InstanceIdFor(cluster),
            new BackupRequest(cluster, trigger, requestedAt),
            BackupOrchestration.ConcurrencyKeyFor(cluster),
            cancellationToken);
    }
}
