namespace EtcdServerless.Core.Orchestration;

/// <summary>Lifecycle of an orchestration instance (the subset of Durable's runtime statuses the runner uses).</summary>
internal enum OrchestrationRuntimeStatus
{
    Pending,
    Running,
    Completed,
    Failed,
}

/// <summary>A point-in-time view of an orchestration instance, like Durable's <c>OrchestrationMetadata</c>.</summary>
internal sealed record OrchestrationState(
    string InstanceId,
    string Name,
    OrchestrationRuntimeStatus RuntimeStatus,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt)
{
    /// <summary>The input as JSON.</summary>
    public string? SerializedInput { get; init; }

    /// <summary>The output as JSON (completed instances).</summary>
    public string? SerializedOutput { get; init; }

    /// <summary>The last custom status as JSON.</summary>
    public string? SerializedCustomStatus { get; init; }

    /// <summary>Why the instance failed.</summary>
    public FailureDetails? Failure { get; init; }

    /// <summary>When the instance completed or failed.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The recorded history (activity calls, timers, results) so far.</summary>
    public IReadOnlyList<HistoryEvent> History { get; init; } = [];

    /// <summary>True while Pending or Running.</summary>
    public bool IsRunning => RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running;

    /// <summary>Reads the output.</summary>
    public T? ReadOutputAs<T>() => OrchestrationJson.Deserialize<T>(SerializedOutput);

    /// <summary>Reads the custom status.</summary>
    public T? ReadCustomStatusAs<T>() => OrchestrationJson.Deserialize<T>(SerializedCustomStatus);

    /// <summary>Reads the input.</summary>
    public T? ReadInputAs<T>() => OrchestrationJson.Deserialize<T>(SerializedInput);
}

/// <summary>What <see cref="InProcessOrchestrationRunner.StartAsync"/> did.</summary>
/// <param name="InstanceId">The instance that runs the request: the new one, or the one already running.</param>
/// <param name="Deduplicated">True when no new instance was started because an equivalent one was running.</param>
internal sealed record OrchestrationStartResult(string InstanceId, bool Deduplicated);
