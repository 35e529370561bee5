using EtcdServerless.Core.Orchestration.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Orchestration;

/// <summary>
/// Runs orchestrations in this process, without Durable (CLI and <c>serve</c>): an in-memory, thread-safe
/// instance table with status, custom status, output and recorded history per instance; activities run on
/// the thread pool with their inputs and outputs round-tripped through JSON; timers and retry waits use the
/// injected <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Singleton semantics as on Durable: starting an instance id that is Pending or Running returns that instance
/// instead of a second run; a finished instance id can be started again. A <c>concurrencyKey</c> extends this
/// to "one running instance per key" whatever the instance ids (one backup at a time per cluster).
/// </remarks>
internal sealed class InProcessOrchestrationRunner : IAsyncDisposable
{
    private readonly OrchestrationRegistry _registry;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private bool _disposed;

    public InProcessOrchestrationRunner(OrchestrationRegistry registry, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _registry = registry;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<InProcessOrchestrationRunner>();
    }

    /// <summary>
    /// Starts orchestrator <paramref name="name"/> as <paramref name="instanceId"/> (a new GUID when null), unless
    /// an instance with that id, or with the same <paramref name="concurrencyKey"/>, is still running: then that
    /// instance is returned with <see cref="OrchestrationStartResult.Deduplicated"/> set.
    /// </summary>
    /// <exception cref="ArgumentException">No orchestrator has that name.</exception>
    /// <exception cref="NotSupportedException">The input cannot be serialized to JSON.</exception>
    public Task<OrchestrationStartResult> StartAsync(string name, string? instanceId, object? input, string? concurrencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_registry.TryGetOrchestrator(name, out var orchestrator))
        {
            throw new ArgumentException($"No orchestrator is registered as '{name}'.", nameof(name));
        }

        var inputJson = OrchestrationJson.Serialize(input);
        var id = string.IsNullOrEmpty(instanceId) ? Guid.NewGuid().ToString("N") : instanceId;
        Instance instance;
        lock (_gate)
        {
            var running = _instances.TryGetValue(id, out var existing) && existing.State.IsRunning
                ? existing
                : concurrencyKey is null ? null : _instances.Values.FirstOrDefault(i => i.State.IsRunning && string.Equals(i.ConcurrencyKey, concurrencyKey, StringComparison.Ordinal));
            if (running is not null)
            {
                _logger.OrchestrationDeduplicated(name, running.State.InstanceId);
                return Task.FromResult(new OrchestrationStartResult(running.State.InstanceId, Deduplicated: true));
            }

            var now = _timeProvider.GetUtcNow();
            instance = new Instance(concurrencyKey, new OrchestrationState(id, orchestrator.Name, OrchestrationRuntimeStatus.Pending, now, now) { SerializedInput = inputJson });
            _instances[id] = instance;
        }

        _logger.OrchestrationStarted(orchestrator.Name, id);
        instance.Run = Task.Run(() => ExecuteAsync(instance, orchestrator, inputJson), CancellationToken.None);
        return Task.FromResult(new OrchestrationStartResult(id, Deduplicated: false));
    }

    /// <summary>The instance's current state (with a history snapshot), or null when unknown.</summary>
    public OrchestrationState? GetStatus(string instanceId)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        lock (_gate)
        {
            return _instances.TryGetValue(instanceId, out var instance) ? instance.Snapshot() : null;
        }
    }

    /// <summary>All instances whose id starts with <paramref name="instanceIdPrefix"/>, newest first.</summary>
    public IReadOnlyList<OrchestrationState> List(string instanceIdPrefix = "")
    {
        lock (_gate)
        {
            return [.. _instances.Values
                .Where(i => i.State.InstanceId.StartsWith(instanceIdPrefix, StringComparison.Ordinal))
                .Select(i => i.Snapshot())
                .OrderByDescending(s => s.CreatedAt)];
        }
    }

    /// <summary>Waits until the instance completes or fails and returns its final state.</summary>
    /// <exception cref="KeyNotFoundException">No such instance.</exception>
    public async Task<OrchestrationState> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        Instance? instance;
        lock (_gate)
        {
            _instances.TryGetValue(instanceId, out instance);
        }

        if (instance is null)
        {
            throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        }

        await instance.Finished.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return GetStatus(instanceId)!;
    }

    /// <summary>Starts (or joins the running instance) and waits for the end.</summary>
    public async Task<OrchestrationState> RunAsync(string name, string? instanceId, object? input, string? concurrencyKey = null, CancellationToken cancellationToken = default)
    {
        var started = await StartAsync(name, instanceId, input, concurrencyKey, cancellationToken).ConfigureAwait(false);
        return await WaitForCompletionAsync(started.InstanceId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops running instances (they end as Failed) and waits for them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _shutdown.CancelAsync().ConfigureAwait(false);
        Task[] runs;
        lock (_gate)
        {
            runs = [.. _instances.Values.Select(i => i.Run).OfType<Task>()];
        }

        await Task.WhenAll(runs).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private async Task ExecuteAsync(Instance instance, RegisteredOrchestrator orchestrator, string? inputJson)
    {
        var backend = new RunnerBackend(this, instance);
        var execution = new OrchestrationExecution(
            instance.State.InstanceId, orchestrator.Name, _timeProvider.GetUtcNow().UtcDateTime, inputJson, backend);
        instance.Execution = execution;
        Update(instance, s => s with { RuntimeStatus = OrchestrationRuntimeStatus.Running });
        HistoryEvent final;
        try
        {
            final = await execution.RunAsync(orchestrator, _shutdown.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (_shutdown.IsCancellationRequested)
        {
            final = new HistoryEvent(HistoryEventKind.ExecutionFailed, -1, execution.CurrentUtcDateTime)
            {
                Failure = new FailureDetails(ex.GetType().FullName!, "The runner stopped before the orchestration completed."),
            };
        }

        var now = _timeProvider.GetUtcNow();
        Update(instance, s => s with
        {
            RuntimeStatus = final.Kind == HistoryEventKind.ExecutionCompleted ? OrchestrationRuntimeStatus.Completed : OrchestrationRuntimeStatus.Failed,
            SerializedOutput = final.OutputJson,
            Failure = final.Failure,
            CompletedAt = now,
        });
        instance.Execution = null;
        instance.FinalHistory = execution.History;
        if (final.Failure is { } failure)
        {
            _logger.OrchestrationFailed(orchestrator.Name, instance.State.InstanceId, failure.ErrorType, failure.ErrorMessage);
        }
        else
        {
            _logger.OrchestrationCompleted(orchestrator.Name, instance.State.InstanceId);
        }

        instance.Finished.TrySetResult();
    }

    private void Update(Instance instance, Func<OrchestrationState, OrchestrationState> change)
    {
        lock (_gate)
        {
            instance.State = change(instance.State) with { LastUpdatedAt = _timeProvider.GetUtcNow() };
        }
    }

    private async Task RunActivityAsync(OrchestrationExecution execution, HistoryEvent scheduled)
    {
        HistoryEvent completion;
        if (!_registry.TryGetActivity(scheduled.Name!, out var activity))
        {
            completion = new HistoryEvent(HistoryEventKind.ActivityFailed, scheduled.Sequence, _timeProvider.GetUtcNow().UtcDateTime)
            {
                Failure = new FailureDetails(typeof(KeyNotFoundException).FullName!, $"No activity is registered as '{scheduled.Name}'."),
            };
        }
        else
        {
            try
            {
                var output = await activity.RunAsync(scheduled.InputJson, _shutdown.Token).ConfigureAwait(false);
                completion = new HistoryEvent(HistoryEventKind.ActivityCompleted, scheduled.Sequence, _timeProvider.GetUtcNow().UtcDateTime) { OutputJson = output };
            }
#pragma warning disable CA1031 // Any activity fault becomes a recorded failure the orchestrator sees, as on Durable.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _logger.ActivityFailed(scheduled.Name!, scheduled.Sequence, execution.InstanceId, ex);
                completion = new HistoryEvent(HistoryEventKind.ActivityFailed, scheduled.Sequence, _timeProvider.GetUtcNow().UtcDateTime)
                {
                    Failure = FailureDetails.FromException(ex),
                };
            }
        }

        execution.Deliver(completion);
    }

    private async Task RunTimerAsync(OrchestrationExecution execution, HistoryEvent scheduled)
    {
        var due = new DateTimeOffset(scheduled.FireAtUtc!.Value, TimeSpan.Zero) - _timeProvider.GetUtcNow();
        try
        {
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, _timeProvider, _shutdown.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var now = _timeProvider.GetUtcNow().UtcDateTime;
        execution.Deliver(new HistoryEvent(HistoryEventKind.TimerFired, scheduled.Sequence, now < scheduled.FireAtUtc.Value ? scheduled.FireAtUtc.Value : now));
    }

    private sealed class Instance(string? concurrencyKey, OrchestrationState state)
    {
        public string? ConcurrencyKey { get; } = concurrencyKey;

        public OrchestrationState State { get; set; } = state;

        public OrchestrationExecution? Execution { get; set; }

        public IReadOnlyList<HistoryEvent>? FinalHistory { get; set; }

        public Task? Run { get; set; }

        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public OrchestrationState Snapshot() => State with
        {
            History = FinalHistory ?? Execution?.History ?? [],
            SerializedCustomStatus = Execution?.CustomStatusJson ?? State.SerializedCustomStatus,
        };
    }

    private sealed class RunnerBackend(InProcessOrchestrationRunner runner, Instance instance) : IOrchestrationBackend
    {
        public void ScheduleActivity(OrchestrationExecution execution, HistoryEvent scheduled) =>
            _ = Task.Run(() => runner.RunActivityAsync(execution, scheduled), CancellationToken.None);

        public void ScheduleTimer(OrchestrationExecution execution, HistoryEvent scheduled) =>
            _ = runner.RunTimerAsync(execution, scheduled);

        public void CustomStatusChanged(OrchestrationExecution execution, string? customStatusJson) =>
            runner.Update(instance, s => s with { SerializedCustomStatus = customStatusJson });

        public void UnmatchedCompletion(OrchestrationExecution execution, HistoryEvent completion)
        {
            // A cancelled timer fired after all: nothing waits for it.
        }
    }
}
