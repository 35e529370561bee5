using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Workflows.Backup;
using Microsoft.DurableTask;

namespace EtcdServerless.Workflows.Deltas;

/// <summary>What one delta run did: the capture and, when the chain needed one, the full backup it took at once.</summary>
internal sealed record DeltaRunResult(DeltaCaptureResult Capture, BackupResult? FullBackup);

/// <summary>
/// One delta run of one cluster (the timer's and <c>serve</c>'s): capture a segment; when the chain is broken (a
/// compaction gap) or has no full backup to start from, take a full backup at once as a sub-orchestration.
/// Runs are never stacked per cluster: the gateway's gate admits one at a time. Deterministic: I/O is in activities.
/// </summary>
internal sealed class DeltaOrchestrator : TaskOrchestrator<DeltaCaptureRequest, DeltaRunResult>
{
    public const string OrchestratorName = "DeltaOrchestration";

    public override async Task<DeltaRunResult> RunAsync(TaskOrchestrationContext context, DeltaCaptureRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        var capture = await context.CallActivityAsync<DeltaCaptureResult>(DeltaCapture.ActivityName, input).ConfigureAwait(true);
        if (!capture.NeedsFullBackup)
        {
            return new DeltaRunResult(capture, null);
        }

        var full = await context.CallSubOrchestratorAsync<BackupResult>(BackupOrchestrator.OrchestratorName,
            new BackupRequest(input.Cluster, BackupTrigger.Scheduled, new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero))).ConfigureAwait(true);
        return new DeltaRunResult(capture, full);
    }
}
