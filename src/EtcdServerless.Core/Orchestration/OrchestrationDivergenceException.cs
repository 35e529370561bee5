namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// A replay did not match the recorded history: the orchestrator is not deterministic (it read the clock,
/// made a random choice, or awaited something that is not an orchestration call).
/// </summary>
public sealed class OrchestrationDivergenceException : Exception
{
    public OrchestrationDivergenceException()
    {
    }

    public OrchestrationDivergenceException(string message)
        : base(message)
    {
    }

    public OrchestrationDivergenceException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
