using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace EtcdServerless.Workflows.InProcess;

/// <summary>One orchestration run of the in-process engine: its state as Durable reports it, and its task.</summary>
internal sealed class InProcessInstance(string name, string instanceId, string? serializedInput, DateTimeOffset createdAt)
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name { get; } = name;

    public string InstanceId { get; } = instanceId;

    public string? SerializedInput { get; } = serializedInput;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public DateTimeOffset LastUpdatedAt { get; private set; } = createdAt;

    public OrchestrationRuntimeStatus RuntimeStatus { get; private set; } = OrchestrationRuntimeStatus.Pending;

    /// <summary>When the run ended (set just before <see cref="Completion"/> completes); null while it runs.</summary>
    public DateTimeOffset? FinishedAt { get; private set; }

    public string? SerializedCustomStatus { get; private set; }

    public string? SerializedOutput { get; private set; }

    public TaskFailureDetails? Failure { get; private set; }

    public bool IsRunning => RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running;

    /// <summary>Completes when the run has ended, whatever its outcome (never faults).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Runs the orchestrator of <paramref name="type"/> on the thread pool.</summary>
    public void Run(InProcessDurableTaskClient engine, Type type, CancellationToken cancellationToken) =>
        _ = Task.Run(() => RunCoreAsync(engine, type, cancellationToken), CancellationToken.None);

    public void SetCustomStatus(string? serialized, DateTimeOffset now)
    {
        SerializedCustomStatus = serialized;
        LastUpdatedAt = now;
    }

    public OrchestrationMetadata ToMetadata(DataConverter converter, bool withPayloads) => new(Name, InstanceId)
    {
        RuntimeStatus = RuntimeStatus,
        CreatedAt = CreatedAt,
        LastUpdatedAt = LastUpdatedAt,
        SerializedInput = withPayloads ? SerializedInput : null,
        SerializedOutput = withPayloads ? SerializedOutput : null,
        SerializedCustomStatus = withPayloads ? SerializedCustomStatus : null,
        FailureDetails = Failure,
        DataConverter = converter,
    };

    private async Task RunCoreAsync(InProcessDurableTaskClient engine, Type type, CancellationToken cancellationToken)
    {
        try
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running;
            var orchestrator = (ITaskOrchestrator)engine.Create(type);
            var context = new DirectOrchestrationContext(engine, this, cancellationToken);
            var input = engine.Converter.Deserialize(SerializedInput, orchestrator.InputType);
            var output = await orchestrator.RunAsync(context, input).ConfigureAwait(false);
            SerializedOutput = engine.Converter.Serialize(output);
            RuntimeStatus = OrchestrationRuntimeStatus.Completed;
        }
        catch (Exception ex)
        {
            Failure = DirectOrchestrationContext.Describe(ex);
            RuntimeStatus = OrchestrationRuntimeStatus.Failed;
        }
        finally
        {
            LastUpdatedAt = engine.Time.GetUtcNow();
            FinishedAt = LastUpdatedAt;
            _completion.TrySetResult();
        }
    }
}
