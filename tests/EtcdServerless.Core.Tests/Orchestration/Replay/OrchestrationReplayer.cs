using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Orchestration.Engine;

namespace EtcdServerless.Core.Tests.Orchestration.Replay;

/// <summary>
/// Re-runs an orchestrator over a recorded history, as Durable does after every await: activities and timers
/// are not executed, their recorded completions are applied in the recorded order with the recorded times.
/// Any divergence (another activity, another input, another timer, a call too many or too few, a different
/// result, an await on something that is not an orchestration call) throws
/// <see cref="OrchestrationDivergenceException"/> naming the first difference.
/// </summary>
internal static class OrchestrationReplayer
{
    /// <summary>Replays <paramref name="recorded"/> (a finished instance of the runner) with the registry's orchestrator.</summary>
    internal static Task<HistoryEvent> ReplayAsync(OrchestrationRegistry registry, OrchestrationState recorded) =>
        ReplayAsync(registry, recorded.Name, recorded.InstanceId, recorded.History);

    /// <summary>Replays a history against orchestrator <paramref name="name"/> of <paramref name="registry"/>.</summary>
    internal static async Task<HistoryEvent> ReplayAsync(OrchestrationRegistry registry, string name, string instanceId, IReadOnlyList<HistoryEvent> history)
    {
        Assert.True(registry.TryGetOrchestrator(name, out var orchestrator), $"orchestrator '{name}' is not registered");
        var started = history.FirstOrDefault(e => e.Kind == HistoryEventKind.ExecutionStarted)
            ?? throw new ArgumentException("The history has no ExecutionStarted event.", nameof(history));
        var recordedFinal = history.LastOrDefault(e => e.Kind is HistoryEventKind.ExecutionCompleted or HistoryEventKind.ExecutionFailed)
            ?? throw new ArgumentException("The history is not finished.", nameof(history));
        var scheduled = history
            .Where(e => e.Kind is HistoryEventKind.ActivityScheduled or HistoryEventKind.TimerCreated)
            .ToDictionary(e => e.Sequence);

        var backend = new ReplayBackend(scheduled);
        var execution = new OrchestrationExecution(instanceId, name, started.Timestamp, started.InputJson, backend, replaying: true);
        foreach (var completion in history.Where(e => e.Kind is HistoryEventKind.ActivityCompleted or HistoryEventKind.ActivityFailed or HistoryEventKind.TimerFired))
        {
            execution.Deliver(completion);
        }

        var final = await execution.RunAsync(orchestrator).WaitAsync(TimeSpan.FromSeconds(30));
        if (backend.Divergence is { } divergence)
        {
            // The orchestrator may have swallowed the exception; the first difference is still the answer.
            throw divergence;
        }

        var missing = scheduled.Keys.Except(backend.Seen).Order().ToList();
        if (missing.Count > 0)
        {
            throw new OrchestrationDivergenceException(
                $"The replay ended without making recorded call(s): {string.Join("; ", missing.Select(s => scheduled[s].ToString()))}.");
        }

        if (execution.UndeliveredCompletions > 0)
        {
            throw new OrchestrationDivergenceException($"{execution.UndeliveredCompletions} recorded completion(s) were never consumed.");
        }

        if (final.Kind != recordedFinal.Kind
            || !string.Equals(final.OutputJson, recordedFinal.OutputJson, StringComparison.Ordinal)
            || !string.Equals(final.Failure?.ErrorType, recordedFinal.Failure?.ErrorType, StringComparison.Ordinal))
        {
            throw new OrchestrationDivergenceException(
                $"The replay ended differently: recorded {recordedFinal.Kind} {recordedFinal.OutputJson ?? recordedFinal.Failure?.ErrorMessage}, " +
                $"replayed {final.Kind} {final.OutputJson ?? final.Failure?.ErrorMessage}.");
        }

        return final;
    }

    private sealed class ReplayBackend(Dictionary<int, HistoryEvent> scheduled) : IOrchestrationBackend
    {
        public HashSet<int> Seen { get; } = [];

        public OrchestrationDivergenceException? Divergence { get; private set; }

        public void ScheduleActivity(OrchestrationExecution execution, HistoryEvent call) => Check(execution, call);

        public void ScheduleTimer(OrchestrationExecution execution, HistoryEvent call) => Check(execution, call);

        public void CustomStatusChanged(OrchestrationExecution execution, string? customStatusJson)
        {
        }

        public void UnmatchedCompletion(OrchestrationExecution execution, HistoryEvent completion) =>
            Fail(execution, $"the history completes call #{completion.Sequence} ({completion.Kind}) before the replay made it");

        private void Check(OrchestrationExecution execution, HistoryEvent call)
        {
            Seen.Add(call.Sequence);
            if (!scheduled.TryGetValue(call.Sequence, out var expected))
            {
                Fail(execution, $"the replay made call {call} that the recorded run did not make");
                return;
            }

            if (expected.Kind != call.Kind
                || !string.Equals(expected.Name, call.Name, StringComparison.Ordinal)
                || !string.Equals(expected.InputJson, call.InputJson, StringComparison.Ordinal)
                || expected.FireAtUtc != call.FireAtUtc
                || expected.Timestamp != call.Timestamp)
            {
                Fail(execution, $"recorded {expected} at {expected.Timestamp:O}, replayed {call} at {call.Timestamp:O}");
            }
        }

        private void Fail(OrchestrationExecution execution, string what)
        {
            var divergence = new OrchestrationDivergenceException($"Non-deterministic orchestrator '{execution.Name}': {what}.");
            Divergence ??= divergence;
            execution.Abort(divergence);
        }
    }
}
