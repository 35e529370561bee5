using System.Text.Json;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Restore;
using EtcdServerless.Workflows.Backup;
using EtcdServerless.Workflows.Deltas;
using EtcdServerless.Workflows.Drill;
using EtcdServerless.Workflows.Instances;
using EtcdServerless.Workflows.Restore;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace EtcdServerless.Functions;

/// <summary>
/// The orchestrator shims: each binds a Durable orchestration trigger to the orchestrator class of
/// EtcdServerless.Workflows (the one the CLI runs). Function names are the orchestrations' registered names.
/// </summary>
internal static class OrchestrationFunctions
{
    [Function(BackupOrchestrator.OrchestratorName)]
    public static Task<BackupResult> BackupOrchestration([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new BackupOrchestrator().RunAsync(context, context.GetInput<BackupRequest>()!);
    }

    [Function(RestoreOrchestrator.OrchestrationName)]
    public static Task<RestoreResult> RestoreOrchestration([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new RestoreOrchestrator().RunAsync(context, context.GetInput<RestoreRequest>()!);
    }

    [Function(DrillOrchestrator.OrchestratorName)]
    public static Task<DrillRunResult> DrillOrchestration([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new DrillOrchestrator().RunAsync(context, context.GetInput<DrillRequest>()!);
    }

    [Function(DeltaOrchestrator.OrchestratorName)]
    public static Task<DeltaRunResult> DeltaOrchestration([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new DeltaOrchestrator().RunAsync(context, context.GetInput<DeltaCaptureRequest>()!);
    }

    [Function(GateOrchestrator.OrchestratorName)]
    public static Task<JsonElement?> ClusterGate([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new GateOrchestrator().RunAsync(context, context.GetInput<GateInput>()!);
    }
}
