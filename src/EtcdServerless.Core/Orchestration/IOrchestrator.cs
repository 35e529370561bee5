namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// An orchestrator: deterministic workflow code over an <see cref="IOrchestrationContext"/>. Input and output
/// are JSON-serializable records (they travel as JSON, as on Durable).
/// </summary>
internal interface IOrchestrator<TInput, TOutput>
{
    /// <summary>The registered name (also the Durable function name).</summary>
    string Name { get; }

    /// <summary>Runs (or replays) the orchestration.</summary>
    Task<TOutput> RunAsync(IOrchestrationContext context, TInput input);
}

/// <summary>
/// An activity: the unit of real work (I/O). Expected failures are returned as result records; only
/// unexpected faults are thrown (and reach the orchestrator as <see cref="ActivityFailedException"/>).
/// </summary>
internal interface IActivity<TInput, TOutput>
{
    /// <summary>The registered name (also the Durable function name).</summary>
    string Name { get; }

    /// <summary>Does the work.</summary>
    Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken = default);
}
