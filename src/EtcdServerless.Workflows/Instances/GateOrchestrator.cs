using System.Text.Json;
using Microsoft.DurableTask;

namespace EtcdServerless.Workflows.Instances;

/// <summary>
/// Holds a cluster's lock for one run: it lives under the fixed gate id of its kind and cluster (so the backend's
/// atomic create, with dedupe on running statuses, admits one at a time) and runs the real orchestration as a
/// sub-orchestration under the run's own id, which is what status URLs show.
/// </summary>
internal sealed class GateOrchestrator : TaskOrchestrator<GateInput, JsonElement?>
{
    public const string OrchestratorName = "ClusterGate";

    public override async Task<JsonElement?> RunAsync(TaskOrchestrationContext context, GateInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        return await context.CallSubOrchestratorAsync<JsonElement?>(
            input.Orchestrator, input.Input, new SubOrchestrationOptions(instanceId: input.RunId)).ConfigureAwait(true);
    }
}

/// <summary>What a gate runs, and what a later request must ask for to be joined to it.</summary>
/// <param name="Kind">backup or restore.</param>
/// <param name="Cluster">The cluster the gate locks.</param>
/// <param name="RunId">The instance id of the real orchestration (the one status URLs show).</param>
/// <param name="Orchestrator">The orchestrator to run.</param>
/// <param name="Input">Its input, as JSON.</param>
/// <param name="Fingerprint">Requests with the same fingerprint are joined; others are refused while it runs.</param>
/// <param name="Summary">A short description for the 409 a refused request gets.</param>
internal sealed record GateInput(string Kind, string Cluster, string RunId, string Orchestrator, JsonElement Input, string Fingerprint, string Summary);
