namespace EtcdServerless.Core.Orchestration;

/// <summary>Kinds of orchestration history events.</summary>
internal enum HistoryEventKind
{
    ExecutionStarted,
    ActivityScheduled,
    ActivityCompleted,
    ActivityFailed,
    TimerCreated,
    TimerFired,
    ExecutionCompleted,
    ExecutionFailed,
}

/// <summary>
/// One recorded step of an orchestration, in the order the orchestrator observed it. Scheduling events carry
/// what the orchestrator asked for (name, input); completion events carry what it got back (output or failure)
/// and when, which is all a replay needs to re-run it identically.
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Sequence">The activity/timer call number (0-based, in scheduling order); -1 for execution events.</param>
/// <param name="Timestamp">Orchestration time of the event (UTC). Completions set <see cref="IOrchestrationContext.CurrentUtcDateTime"/>.</param>
internal sealed record HistoryEvent(HistoryEventKind Kind, int Sequence, DateTime Timestamp)
{
    /// <summary>Activity or orchestrator name.</summary>
    public string? Name { get; init; }

    /// <summary>Serialized input (activity scheduled, execution started).</summary>
    public string? InputJson { get; init; }

    /// <summary>Serialized output (activity completed, execution completed).</summary>
    public string? OutputJson { get; init; }

    /// <summary>The failure (activity failed, execution failed).</summary>
    public FailureDetails? Failure { get; init; }

    /// <summary>When a timer is due (timer created).</summary>
    public DateTime? FireAtUtc { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        HistoryEventKind.ActivityScheduled => $"#{Sequence} {Kind} {Name}({InputJson})",
        HistoryEventKind.ActivityCompleted => $"#{Sequence} {Kind} -> {OutputJson}",
        HistoryEventKind.ActivityFailed => $"#{Sequence} {Kind} {Failure?.ErrorType}: {Failure?.ErrorMessage}",
        HistoryEventKind.TimerCreated => $"#{Sequence} {Kind} {FireAtUtc:O}",
        _ => $"#{Sequence} {Kind} {Timestamp:O}",
    };
}
