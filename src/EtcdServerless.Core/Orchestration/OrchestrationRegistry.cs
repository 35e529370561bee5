namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// Names to orchestrator and activity instances. Each registration wraps the typed class in a JSON adapter,
/// so everything crossing the seam is serialized exactly as on Durable.
/// </summary>
internal sealed class OrchestrationRegistry
{
    private readonly Dictionary<string, RegisteredOrchestrator> _orchestrators = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RegisteredActivity> _activities = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Registers an orchestrator under its <see cref="IOrchestrator{TInput, TOutput}.Name"/>.</summary>
    public OrchestrationRegistry AddOrchestrator<TInput, TOutput>(IOrchestrator<TInput, TOutput> orchestrator)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        _orchestrators.Add(orchestrator.Name, new RegisteredOrchestrator(orchestrator.Name, async (context, inputJson) =>
        {
            var input = OrchestrationJson.Deserialize<TInput>(inputJson)!;
            var output = await orchestrator.RunAsync(context, input).ConfigureAwait(true);
            return OrchestrationJson.Serialize(output);
        }));
        return this;
    }

    /// <summary>Registers an activity under its <see cref="IActivity{TInput, TOutput}.Name"/>.</summary>
    public OrchestrationRegistry AddActivity<TInput, TOutput>(IActivity<TInput, TOutput> activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        _activities.Add(activity.Name, new RegisteredActivity(activity.Name, async (inputJson, cancellationToken) =>
        {
            var input = OrchestrationJson.Deserialize<TInput>(inputJson)!;
            var output = await activity.RunAsync(input, cancellationToken).ConfigureAwait(false);
            return OrchestrationJson.Serialize(output);
        }));
        return this;
    }

    /// <summary>Finds an orchestrator by name.</summary>
    public bool TryGetOrchestrator(string name, out RegisteredOrchestrator orchestrator) =>
        _orchestrators.TryGetValue(name, out orchestrator!);

    /// <summary>Finds an activity by name.</summary>
    public bool TryGetActivity(string name, out RegisteredActivity activity) =>
        _activities.TryGetValue(name, out activity!);

    /// <summary>Registered orchestrator names.</summary>
    public IEnumerable<string> OrchestratorNames => _orchestrators.Keys;

    /// <summary>Registered activity names.</summary>
    public IEnumerable<string> ActivityNames => _activities.Keys;
}

/// <summary>An orchestrator behind its JSON adapter.</summary>
internal sealed record RegisteredOrchestrator(string Name, Func<IOrchestrationContext, string?, Task<string?>> RunAsync);

/// <summary>An activity behind its JSON adapter.</summary>
internal sealed record RegisteredActivity(string Name, Func<string?, CancellationToken, Task<string?>> RunAsync);
