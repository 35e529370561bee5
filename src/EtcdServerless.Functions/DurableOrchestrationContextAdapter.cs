using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Orchestration.Engine;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Functions;

/// <summary>
/// Presents Durable's <see cref="TaskOrchestrationContext"/> as Core's <see cref="IOrchestrationContext"/>, so the
/// orchestrator classes run unchanged on Durable Functions. The only translation: activity failures
/// (<see cref="TaskFailedException"/>) become <see cref="ActivityFailedException"/>, retry policies become
/// Durable <see cref="RetryPolicy"/>s.
/// </summary>
internal sealed class DurableOrchestrationContextAdapter(TaskOrchestrationContext context) : IOrchestrationContext
{
    public string InstanceId => context.InstanceId;

    public DateTime CurrentUtcDateTime => context.CurrentUtcDateTime;

    public bool IsReplaying => context.IsReplaying;

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, ActivityRetryPolicy? retry = null)
    {
        var options = retry is null
            ? null
            : TaskOptions.FromRetryPolicy(new RetryPolicy(retry.MaxAttempts, retry.FirstRetryInterval, retry.BackoffCoefficient, retry.MaxRetryInterval));
        try
        {
            // Orchestrator code must resume on the orchestration thread: no ConfigureAwait(false) here.
            return await context.CallActivityAsync<TResult>(name, input, options).ConfigureAwait(true);
        }
        catch (TaskFailedException ex)
        {
            throw new ActivityFailedException(name, -1, Map(ex.FailureDetails));
        }
    }

    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken) => context.CreateTimer(fireAtUtc, cancellationToken);

    public void SetCustomStatus(object? customStatus) => context.SetCustomStatus(customStatus);

    public Guid NewGuid() => context.NewGuid();

    public ILogger CreateReplaySafeLogger(ILogger logger) => new ReplaySafeLogger(logger, () => context.IsReplaying);

    private static FailureDetails Map(TaskFailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is { } inner ? Map(inner) : null);
}
