using EtcdServerless.Core.Orchestration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// One verified backup of one cluster: capture (select source, stream, verify, seal, commit artifact) → optional
/// consistency check → manifest (the commit point) → retention. A failed capture or manifest ends the backup
/// with that message and no manifest. Deterministic: everything with I/O or time happens in activities.
/// </summary>
internal sealed class BackupOrchestration(BackupPipelineOptions? pipeline = null, ILoggerFactory? loggerFactory = null)
    : IOrchestrator<BackupRequest, BackupResult>
{
    public const string OrchestratorName = "BackupOrchestration";

    // Store writes can hit a transient fault; the manifest write is idempotent until it succeeds.
    private static readonly ActivityRetryPolicy s_manifestRetry = new(3, TimeSpan.FromSeconds(5), 2);

    private readonly BackupPipelineOptions _pipeline = pipeline ?? new BackupPipelineOptions();
    private readonly ILogger _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<BackupOrchestration>();

    public string Name => OrchestratorName;

    /// <summary>The in-process singleton id: one running on-demand backup per cluster.</summary>
    public static string InstanceIdFor(string cluster) => $"backup-{cluster}";

    /// <summary>The Function App's scheduled instance id (one per cluster and minute slot, so a timer retry dedups).</summary>
    public static string ScheduledInstanceIdFor(string cluster, DateTimeOffset slot) =>
        $"backup-{cluster}-{slot.UtcDateTime:yyyyMMddHHmm}";

    /// <summary>The runner's concurrency key: whatever the instance ids, one backup at a time per cluster.</summary>
    public static string ConcurrencyKeyFor(string cluster) => $"backup/{cluster}";

    public async Task<BackupResult> RunAsync(IOrchestrationContext context, BackupRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var log = context.CreateReplaySafeLogger(_logger);
        var startedAt = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
        var warnings = new List<string>();

        context.SetCustomStatus(new BackupProgress(input.Cluster, "capture"));
        var capture = await context.CallActivityAsync<CaptureResult>(
            CaptureSnapshotActivity.ActivityName, new CaptureRequest(input.Cluster, startedAt)).ConfigureAwait(true);
        warnings.AddRange(capture.Attempts.Where(a => !a.EndsWith(": captured", StringComparison.Ordinal)));
        if (!capture.Succeeded || capture.Artifact is null)
        {
            return Fail(context, log, input.Cluster, "capture", capture.Message ?? "capture failed", warnings);
        }

        var artifact = capture.Artifact;
        ConsistencyCheckResult? consistency = null;
        if (_pipeline.ConsistencyCheck)
        {
            context.SetCustomStatus(new BackupProgress(input.Cluster, "consistency", artifact.BackupId));
            consistency = await context.CallActivityAsync<ConsistencyCheckResult>(
                ConsistencyCheckActivity.ActivityName, new ConsistencyCheckRequest(input.Cluster, artifact.Snapshot.Revision)).ConfigureAwait(true);
            if (!consistency.Consistent)
            {
                warnings.Add($"consistency check: {consistency.Message}");
            }
        }

        context.SetCustomStatus(new BackupProgress(input.Cluster, "manifest", artifact.BackupId));
        var manifest = await context.CallActivityAsync<WriteManifestResult>(
            WriteManifestActivity.ActivityName,
            new WriteManifestRequest(input.Cluster, artifact, startedAt, new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero)),
            s_manifestRetry).ConfigureAwait(true);
        if (!manifest.Succeeded || manifest.Manifest is null)
        {
            return Fail(context, log, input.Cluster, "manifest", manifest.Message ?? "manifest write failed", warnings);
        }

        var committed = manifest.Manifest;
        if (committed.Flags.KeyCountDropped)
        {
            warnings.Add($"key count dropped from {manifest.PreviousTotalKey} to {committed.Snapshot.TotalKey}: backup flagged, the previous backup is kept");
        }

        context.SetCustomStatus(new BackupProgress(input.Cluster, "retention", committed.BackupId));
        var retention = await context.CallActivityAsync<RetentionOutcome>(
            ApplyRetentionActivity.ActivityName, new RetentionRequest(input.Cluster, committed.BackupId)).ConfigureAwait(true);
        warnings.AddRange(retention.Errors.Select(e => "retention: " + e));

        context.SetCustomStatus(new BackupProgress(input.Cluster, "done", committed.BackupId));
        log.BackupSucceeded(input.Cluster, committed.BackupId, committed.Snapshot.Revision, committed.Snapshot.TotalKey, committed.Artifact.Size);
        return new BackupResult
        {
            Cluster = input.Cluster,
            Succeeded = true,
            Message = $"backup {committed.BackupId}: revision {committed.Snapshot.Revision}, {committed.Snapshot.TotalKey} keys",
            Manifest = committed,
            KeyCountDropped = committed.Flags.KeyCountDropped,
            Retention = retention,
            Consistency = consistency,
            Warnings = warnings,
        };
    }

    private static BackupResult Fail(IOrchestrationContext context, ILogger log, string cluster, string phase, string message, List<string> warnings)
    {
        context.SetCustomStatus(new BackupProgress(cluster, "failed", Detail: message));
        log.BackupFailed(cluster, phase, message);
        return new BackupResult { Cluster = cluster, Succeeded = false, FailedPhase = phase, Message = message, Warnings = warnings };
    }
}
