namespace EtcdServerless.Core.Orchestration.Engine;

/// <summary>
/// Fulfils what an <see cref="OrchestrationExecution"/> schedules. The in-process runner executes activities
/// and timers for real and delivers their completions; a replay feeds recorded completions instead and checks
/// every scheduling call against the history.
/// </summary>
internal interface IOrchestrationBackend
{
    /// <summary>The orchestrator scheduled activity <paramref name="scheduled"/> (kind ActivityScheduled).</summary>
    void ScheduleActivity(OrchestrationExecution execution, HistoryEvent scheduled);

    /// <summary>The orchestrator created timer <paramref name="scheduled"/> (kind TimerCreated).</summary>
    void ScheduleTimer(OrchestrationExecution execution, HistoryEvent scheduled);

    /// <summary>The orchestrator published a new custom status.</summary>
    void CustomStatusChanged(OrchestrationExecution execution, string? customStatusJson);

    /// <summary>A completion arrived for a call the orchestrator does not wait for (unknown or cancelled).</summary>
    void UnmatchedCompletion(OrchestrationExecution execution, HistoryEvent completion);
}
