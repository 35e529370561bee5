using EtcdServerless.Core.Drills;
using Microsoft.DurableTask;

namespace EtcdServerless.Workflows.Drill;

/// <summary>
/// One restore drill of one backup of one cluster (scheduled or on demand): a single activity resolves the backup,
/// drills it where the cluster's drills run (its agent on Azure, where a function cannot run etcd) and records the
/// outcome beside the manifest; a failed drill logs <c>DrillFailed</c> there. Deterministic: no I/O, no clock here.
/// </summary>
internal sealed class DrillOrchestrator : TaskOrchestrator<DrillRequest, DrillRunResult>
{
    public const string OrchestratorName = "DrillOrchestration";

    public override async Task<DrillRunResult> RunAsync(TaskOrchestrationContext context, DrillRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        context.SetCustomStatus(new DrillProgress(input.Cluster, input.Backup, "drill"));
        var result = await context.CallActivityAsync<DrillRunResult>(DrillActivity.ActivityName, input).ConfigureAwait(true);
        context.SetCustomStatus(new DrillProgress(input.Cluster, result.BackupId ?? input.Backup, result.Succeeded ? "passed" : "failed", result.Succeeded ? null : result.Message));
        return result;
    }
}

/// <summary>Custom status of a drill run.</summary>
internal sealed record DrillProgress(string Cluster, string Backup, string Phase, string? Detail = null);
