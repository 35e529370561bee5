namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// An activity's work: one unit of I/O an orchestrator schedules by name. Expected failures are returned as
/// result records; only unexpected faults are thrown (the orchestrator sees them as a failed task). The
/// Durable Task adapters (EtcdServerless.Workflows) run these under the Function App and in process.
/// </summary>
internal interface IActivity<TInput, TOutput>
{
    /// <summary>The registered name (also the Durable function name: letters and digits only).</summary>
    string Name { get; }

    /// <summary>Does the work.</summary>
    Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken = default);
}
