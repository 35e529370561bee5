using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// What an orchestrator may do, shaped like Durable's <c>TaskOrchestrationContext</c> so the same orchestrator
/// class runs on Durable Functions (through a thin adapter) and in-process (<see cref="InProcessOrchestrationRunner"/>).
/// </summary>
/// <remarks>
/// Orchestrator code must be deterministic: it is replayed over its recorded history. Use
/// <see cref="CurrentUtcDateTime"/> and <see cref="NewGuid"/> (never the clock or <see cref="Guid.NewGuid"/>),
/// do I/O only in activities, and await with <c>ConfigureAwait(true)</c> so continuations stay on the
/// orchestration thread.
/// </remarks>
internal interface IOrchestrationContext
{
    /// <summary>The orchestration instance id.</summary>
    string InstanceId { get; }

    /// <summary>The replay-safe current time (UTC): the time of the event the orchestrator last resumed on.</summary>
    DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the orchestrator re-executes recorded history.</summary>
    bool IsReplaying { get; }

    /// <summary>
    /// Schedules an activity and returns its result. Fan-out: start several, then <c>Task.WhenAll</c>.
    /// Unexpected activity exceptions arrive as <see cref="ActivityFailedException"/> (after the retries of
    /// <paramref name="retry"/>, when given).
    /// </summary>
    Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, ActivityRetryPolicy? retry = null);

    /// <summary>A durable timer that completes at <paramref name="fireAtUtc"/> (or is cancelled by the token).</summary>
    Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken);

    /// <summary>Publishes a JSON-serializable progress object on the instance's status.</summary>
    void SetCustomStatus(object? customStatus);

    /// <summary>A deterministic GUID (the same one on every replay).</summary>
    Guid NewGuid();

    /// <summary>Wraps <paramref name="logger"/> so nothing is logged while replaying.</summary>
    ILogger CreateReplaySafeLogger(ILogger logger);
}
