using EtcdServerless.Workflows.Hosting;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.InProcess;

/// <summary>
/// <see cref="TaskOrchestrationContext"/> for a run that executes once, directly: activities run when they are
/// scheduled (fan-out runs in parallel), timers wait on the injected clock, retries follow the task's
/// <see cref="RetryPolicy"/>, and every payload still round-trips through the data converter as it would on Durable.
/// </summary>
internal sealed class DirectOrchestrationContext(InProcessDurableTaskClient engine, InProcessInstance instance, CancellationToken cancellationToken)
    : TaskOrchestrationContext
{
    private int _taskId;

    public override TaskName Name => instance.Name;

    public override string InstanceId => instance.InstanceId;

    public override ParentOrchestrationInstance? Parent => null;

    public override DateTime CurrentUtcDateTime => engine.Time.GetUtcNow().UtcDateTime;

    public override bool IsReplaying => false;

    protected override ILoggerFactory LoggerFactory => engine.LoggerFactory;

    public override T GetInput<T>() => engine.Converter.Deserialize<T>(instance.SerializedInput)!;

    public override async Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null)
    {
        if (!WorkflowRegistration.Activities.TryGetValue(name.Name, out var type))
        {
            throw new ArgumentException($"no activity is registered as '{name.Name}'", nameof(name));
        }

        var taskId = Interlocked.Increment(ref _taskId);
        var serializedInput = engine.Converter.Serialize(input);
        var policy = options?.Retry?.Policy;
        var attempt = 1;
        var delay = policy?.FirstRetryInterval ?? TimeSpan.Zero;
        while (true)
        {
            try
            {
                var activity = (ITaskActivity)engine.Create(type);
                var context = new DirectActivityContext(name, InstanceId, cancellationToken);
                var output = await activity.RunAsync(context, engine.Converter.Deserialize(serializedInput, activity.InputType)).ConfigureAwait(false);
                return engine.Converter.Deserialize<TResult>(engine.Converter.Serialize(output))!;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (policy is null || attempt >= policy.MaxNumberOfAttempts)
                {
                    throw new TaskFailedException(name.Name, taskId, Describe(ex));
                }

                await Task.Delay(delay, engine.Time, cancellationToken).ConfigureAwait(false);
                attempt++;
                var next = TimeSpan.FromTicks((long)(delay.Ticks * policy.BackoffCoefficient));
                delay = next > policy.MaxRetryInterval ? policy.MaxRetryInterval : next;
            }
        }
    }

    public override async Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null)
    {
        var instanceId = (options as SubOrchestrationOptions)?.InstanceId ?? Guid.NewGuid().ToString("N");
        var child = engine.Start(orchestratorName.Name, instanceId, input, new HashSet<string>(StringComparer.Ordinal));
        await child.Completion.ConfigureAwait(false);
        if (child.Failure is { } failure)
        {
            throw new TaskFailedException(orchestratorName.Name, Interlocked.Increment(ref _taskId), failure);
        }

        return engine.Converter.Deserialize<TResult>(child.SerializedOutput)!;
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var due = fireAt - CurrentUtcDateTime;
        return Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, engine.Time, cancellationToken);
    }

    public override void SetCustomStatus(object? customStatus) =>
        instance.SetCustomStatus(engine.Converter.Serialize(customStatus), engine.Time.GetUtcNow());

    public override Guid NewGuid() => Guid.NewGuid();

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("the in-process engine has no external events");

    public override void SendEvent(string instanceId, string eventName, object payload) =>
        throw new NotSupportedException("the in-process engine has no external events");

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        throw new NotSupportedException("the in-process engine does not continue-as-new");

    /// <summary>Failure details as Durable records them: type, message and the inner failures.</summary>
    internal static TaskFailureDetails Describe(Exception exception) =>
        exception is TaskFailedException failed
            ? new TaskFailureDetails(failed.GetType().FullName!, failed.Message, failed.StackTrace, failed.FailureDetails, null)
            : new TaskFailureDetails(exception.GetType().FullName!, exception.Message, exception.StackTrace,
                exception.InnerException is null ? null : Describe(exception.InnerException), null);

    private sealed class DirectActivityContext(TaskName name, string instanceId, CancellationToken cancellationToken)
        : TaskActivityContext, ICancellableActivityContext
    {
        public override TaskName Name => name;

        public override string InstanceId => instanceId;

        public CancellationToken CancellationToken => cancellationToken;
    }
}
