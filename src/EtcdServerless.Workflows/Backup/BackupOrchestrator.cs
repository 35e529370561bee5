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
        var startedAt = new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero);
        try
        {
            return await RunStepsAsync(context, input, startedAt).ConfigureAwait(true);
        }
        catch (TaskFailedException ex)
        {
            // An activity faulted (not an expected failure it returned): the orchestration still fails, but only after
            // the failure is on record, so `backup status` and the metrics see it as they see any other.
            await RecordOutcomeAsync(context, Outcome(context, input, startedAt, succeeded: false) with
            {
                Phase = ex.TaskName,
                Reason = ex.FailureDetails.ErrorMessage,
            }).ConfigureAwait(true);
            throw;
        }
    }

    private static async Task<BackupResult> RunStepsAsync(TaskOrchestrationContext context, BackupRequest input, DateTimeOffset startedAt)
    {
        var log = context.CreateReplaySafeLogger<BackupOrchestrator>();
        var warnings = new List<string>();

        context.SetCustomStatus(new BackupProgress(input.Cluster, "capture"));
        var capture = await context.CallActivityAsync<CaptureResult>(
            CaptureSnapshotActivity.ActivityName, new CaptureRequest(input.Cluster, startedAt)).ConfigureAwait(true);
        warnings.AddRange(capture.Problems);
        if (!capture.Succeeded || capture.Artifact is null)
        {
            return await FailAsync(context, input, startedAt, "capture", capture.Message ?? "capture failed", warnings).ConfigureAwait(true);
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

        // The control-plane bundle (only when the cluster names an agent for it): a second artifact of this backup.
        var bundle = await context.CallActivityAsync<CaptureBundleResult>(
            CaptureBundleActivity.ActivityName, new CaptureBundleRequest(input.Cluster, artifact.BackupId, artifact.Snapshot.Revision)).ConfigureAwait(true);
        if (bundle is { Skipped: false, Bundle: null })
        {
            warnings.Add($"no control-plane bundle: {bundle.Message}");
        }

        context.SetCustomStatus(new BackupProgress(input.Cluster, "manifest", artifact.BackupId));
        var manifest = await context.CallActivityAsync<WriteManifestResult>(
            WriteManifestActivity.ActivityName,
            new WriteManifestRequest(input.Cluster, artifact, startedAt, new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero), bundle.Bundle),
            s_manifestRetry).ConfigureAwait(true);
        if (!manifest.Succeeded || manifest.Manifest is null)
        {
            return await FailAsync(context, input, startedAt, "manifest", manifest.Message ?? "manifest write failed", warnings).ConfigureAwait(true);
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

        await RecordOutcomeAsync(context, Outcome(context, input, startedAt, succeeded: true) with
        {
            Created = committed.Created,
            ArtifactSize = committed.Artifact.Size,
        }).ConfigureAwait(true);
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

    private static async Task<BackupResult> FailAsync(TaskOrchestrationContext context, BackupRequest input, DateTimeOffset startedAt, string phase, string message, List<string> warnings)
    {
        var cluster = input.Cluster;
        context.SetCustomStatus(new BackupProgress(cluster, "failed", Detail: message));
        context.CreateReplaySafeLogger<BackupOrchestrator>().BackupFailed(cluster, phase, message);
        var recorded = await RecordOutcomeAsync(context, Outcome(context, input, startedAt, succeeded: false) with
        {
            Phase = phase,
            Reason = message,
        }).ConfigureAwait(true);
        if (!recorded.Recorded)
        {
            warnings.Add($"failure record not written: {recorded.Message}");
        }

        return new BackupResult { Cluster = cluster, Succeeded = false, FailedPhase = phase, Message = message, Warnings = warnings };
    }

    // The outcome step never decides the backup's result: a fault in it is logged and reported, not rethrown.
    private static async Task<BackupOutcomeRecorded> RecordOutcomeAsync(TaskOrchestrationContext context, BackupOutcome outcome)
    {
        try
        {
            return await context.CallActivityAsync<BackupOutcomeRecorded>(RecordBackupOutcomeActivity.ActivityName, outcome).ConfigureAwait(true);
        }
        catch (TaskFailedException ex)
        {
            context.CreateReplaySafeLogger<BackupOrchestrator>().FailureRecordNotWritten(outcome.Cluster, ex.FailureDetails.ErrorMessage);
            return new BackupOutcomeRecorded(false, Message: ex.FailureDetails.ErrorMessage);
        }
    }

    /// <summary>What every outcome of this run says: cluster, trigger, times (orchestration time, replay-safe), instance.</summary>
    private static BackupOutcome Outcome(TaskOrchestrationContext context, BackupRequest input, DateTimeOffset startedAt, bool succeeded) => new()
    {
        Cluster = input.Cluster,
        Succeeded = succeeded,
        Trigger = input.Trigger,
        StartedAt = startedAt,
        FinishedAt = Now(context),
        InstanceId = context.InstanceId,
    };

    private static DateTimeOffset Now(TaskOrchestrationContext context) => new(context.CurrentUtcDateTime, TimeSpan.Zero);
}
