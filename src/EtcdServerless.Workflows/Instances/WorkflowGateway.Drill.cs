using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Drills;
using EtcdServerless.Workflows.Drill;

namespace EtcdServerless.Workflows.Instances;

/// <summary>Drills under the same one-per-cluster policy as backups and restores.</summary>
internal sealed partial class WorkflowGateway
{
    /// <summary>
    /// Starts a drill of <paramref name="backup"/> (an id or <c>latest</c>) of <paramref name="cluster"/>, joins the
    /// running drill of the same backup reference, or refuses while a drill of another one runs.
    /// </summary>
    public Task<StartOutcome> StartDrillAsync(string cluster, string backup, BackupTrigger trigger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        ArgumentException.ThrowIfNullOrEmpty(backup);
        var request = new DrillRequest(cluster, backup, trigger, time.GetUtcNow());
        return StartAsync(WorkflowKind.Drill, cluster, DrillOrchestrator.OrchestratorName, request, $"drill {backup}", $"a drill of backup '{backup}' of cluster '{cluster}'", cancellationToken);
    }
}
