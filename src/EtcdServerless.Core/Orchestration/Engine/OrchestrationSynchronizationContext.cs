namespace EtcdServerless.Core.Orchestration.Engine;

/// <summary>
/// Sends orchestrator continuations back to the execution's single work loop, so orchestrator code never
/// runs concurrently with itself and always resumes between completion events, as on Durable.
/// </summary>
internal sealed class OrchestrationSynchronizationContext(OrchestrationExecution execution) : SynchronizationContext
{
    public override void Post(SendOrPostCallback d, object? state) => execution.Post(d, state);

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Orchestrator code cannot block on the orchestration thread.");

    public override SynchronizationContext CreateCopy() => this;
}
