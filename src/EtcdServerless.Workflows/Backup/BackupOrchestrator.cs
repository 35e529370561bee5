using EtcdServerless.Core.Backup;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.Backup;

/// <summary>
/// One verified backup of one cluster: capture (select source, stream, verify, seal, commit artifact) → optional
/// consistency check → manifest (the commit point) → retention. A failed capture or manifest ends the backup
/// with that message and no manifest. Deterministic: everything with I/O or time happens in activities.
/// </summary>
internal sealed class BackupOrchestrator : TaskOrchestrator<BackupRequest, BackupResult>
{
    public const string OrchestratorName = "BackupOrchestration";

    // Store writes can hit a transient fault; the manifest write is idempotent until it succeeds.
    private static readonly TaskOptions s_manifestRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(3, TimeSpan.FromSeconds(5), backoffCoefficient: 2));

    public override async Task<BackupResult> RunAsync(TaskOrchestrationContext context, BackupRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var log = context.CreateReplaySafeLogger<BackupOrchestrator>();
        var startedAt = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
        var warnings = new List<string>();

        context.SetCustomStatus(new BackupProgress(input.Cluster, "capture"));
        var capture = await context.CallActivityAsync<CaptureResult>(
            CaptureSnapshotActivity.ActivityName, new CaptureRequest(input.Cluster, startedAt)).ConfigureAwait(true);
        warnings.AddRange(capture.Problems);
        if (!capture.Succeeded || capture.Artifact is null)
        {
            return Fail(context, input.Cluster, "capture", capture.Message ?? "capture failed", warnings);
        }

        var artifact = capture.Artifact;
        context.SetCustomStatus(new BackupProgress(input.Cluster, "consistency", artifact.BackupId));
        var checkedHashes = await context.CallActivityAsync<ConsistencyCheckResult>(
            ConsistencyCheckActivity.ActivityName, new ConsistencyCheckRequest(input.Cluster, artifact.Snapshot.Revision)).ConfigureAwait(true);
        var consistency = checkedHashes.Skipped ? null : checkedHashes;
        if (consistency is { Consistent: false })
        {
            warnings.Add($"consistency check: {consistency.Message}");
        }

        context.SetCustomStatus(new BackupProgress(input.Cluster, "manifest", artifact.BackupId));
        var manifest = await context.CallActivityAsync<WriteManifestResult>(
            WriteManifestActivity.ActivityName,
            new WriteManifestRequest(input.Cluster, artifact, startedAt, new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero)),
            s_manifestRetry).ConfigureAwait(true);
        if (!manifest.Succeeded || manifest.Manifest is null)
        {
            return Fail(context, input.Cluster, "manifest", manifest.Message ?? "manifest write failed", warnings);
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

    private static BackupResult Fail(TaskOrchestrationContext context, string cluster, string phase, string message, List<string> warnings)
    {
        context.SetCustomStatus(new BackupProgress(cluster, "failed", Detail: message));
        context.CreateReplaySafeLogger<BackupOrchestrator>().BackupFailed(cluster, phase, message);
        return new BackupResult { Cluster = cluster, Succeeded = false, FailedPhase = phase, Message = message, Warnings = warnings };
    }
}
