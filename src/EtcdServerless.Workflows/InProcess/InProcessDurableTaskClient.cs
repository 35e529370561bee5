using System.Collections.Concurrent;
using EtcdServerless.Workflows.Hosting;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.InProcess;

/// <summary>
/// The CLI's and <c>serve</c>'s Durable Task engine: a <see cref="DurableTaskClient"/> that runs the registered
/// orchestrators directly in this process (no history, no replay, no sidecar), so the same orchestrator classes,
/// the same <see cref="Instances.WorkflowGateway"/> and the same HTTP contract serve both hosts.
/// </summary>
/// <remarks>
/// Why not the in-memory Durable Task host here: it opens an unauthenticated gRPC port on loopback, abandons
/// running activities on shutdown instead of cancelling them, and runs timers on the real clock. Nothing here
/// survives the process, as nothing of an in-process run needs to: backups themselves are in the store.
/// Inputs and outputs still travel as JSON through <see cref="DataConverter"/>, as on Durable.
/// </remarks>
internal sealed class InProcessDurableTaskClient : DurableTaskClient
{
    private readonly ConcurrentDictionary<string, InProcessInstance> _instances = new(StringComparer.Ordinal);
    private readonly Lock _startLock = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly InProcessRetention _retention;

    /// <summary>Creates the engine; orchestrators and activities are created from <paramref name="services"/>.</summary>
    /// <param name="services">Where orchestrators and activities get their dependencies.</param>
    /// <param name="time">The clock of timers, retries and run times.</param>
    /// <param name="loggerFactory">The orchestrators' loggers.</param>
    /// <param name="dataConverter">Round-trips every payload, as on Durable.</param>
    /// <param name="retention">How many finished runs, and for how long, stay readable; <see cref="InProcessRetention.Default"/> when null.</param>
    public InProcessDurableTaskClient(IServiceProvider services, TimeProvider time, ILoggerFactory loggerFactory, DataConverter dataConverter, InProcessRetention? retention = null)
        : base("in-process")
    {
        Services = services;
        Time = time;
        LoggerFactory = loggerFactory;
        Converter = dataConverter;
        _retention = retention ?? InProcessRetention.Default;
    }

    internal IServiceProvider Services { get; }

    internal TimeProvider Time { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal DataConverter Converter { get; }

    /// <inheritdoc/>
    public override Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        var dedupe = options?.DedupeStatuses?.ToHashSet(StringComparer.Ordinal) ?? [];
        Start(orchestratorName.Name, instanceId, input, dedupe);
        return Task.FromResult(instanceId);
    }

    /// <summary>Starts an orchestration (top-level or a sub-orchestration) and returns its instance.</summary>
    internal InProcessInstance Start(string name, string instanceId, object? input, IReadOnlySet<string> dedupeStatuses)
    {
        if (!WorkflowRegistration.Orchestrators.TryGetValue(name, out var type))
        {
            throw new ArgumentException($"no orchestrator is registered as '{name}'", nameof(name));
        }

        InProcessInstance instance;
        lock (_startLock)
        {
            if (_instances.TryGetValue(instanceId, out var existing) && (existing.IsRunning || dedupeStatuses.Contains(existing.RuntimeStatus.ToString())))
            {
                throw new InvalidOperationException($"an orchestration with instance id '{instanceId}' already exists ({existing.RuntimeStatus})");
            }

            // Every start may add an entry, so this is where the map is kept bounded (serve runs for months).
            ForgetFinished();
            instance = new InProcessInstance(name, instanceId, Converter.Serialize(input), Time.GetUtcNow());
            _instances[instanceId] = instance;
        }

        instance.Run(this, type, _shutdown.Token);
        return instance;
    }

    /// <inheritdoc/>
    public override Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        Task.FromResult(_instances.TryGetValue(instanceId, out var instance) ? instance.ToMetadata(Converter, getInputsAndOutputs) : null);

    /// <inheritdoc/>
    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        Task.FromResult(Find(instanceId).ToMetadata(Converter, getInputsAndOutputs));

    /// <inheritdoc/>
    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var instance = Find(instanceId);
        await instance.Completion.WaitAsync(cancellation).ConfigureAwait(false);
        return instance.ToMetadata(Converter, getInputsAndOutputs);
    }

    /// <inheritdoc/>
    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        throw new NotSupportedException("the in-process engine has no external events");

    /// <inheritdoc/>
    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        throw new NotSupportedException("the in-process engine cannot suspend instances");

    /// <inheritdoc/>
    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        throw new NotSupportedException("the in-process engine cannot suspend instances");

    /// <inheritdoc/>
    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        throw new NotSupportedException("the in-process engine does not query instances; read one by id");

    /// <summary>Cancels every running instance (their activities see the token) and waits for them to end.</summary>
    public override async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        var running = _instances.Values.Select(i => i.Completion).ToArray();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _shutdown.Dispose();
    }

    /// <summary>Drops the finished runs <see cref="InProcessRetention"/> no longer keeps. Called under the start lock.</summary>
    private void ForgetFinished()
    {
        var now = Time.GetUtcNow();
        var finished = _instances.Values
            .Select(i => (Instance: i, FinishedAt: i.FinishedAt))
            .Where(f => f.FinishedAt is not null)
            .OrderByDescending(f => f.FinishedAt)
            .ToList();
        for (var newer = 0; newer < finished.Count; newer++)
        {
            var (instance, finishedAt) = finished[newer];
            if (_retention.Forgets(finishedAt!.Value, newer, now))
            {
                // Only this entry: a newer run may already have reused the id (gates do).
                _instances.TryRemove(new KeyValuePair<string, InProcessInstance>(instance.InstanceId, instance));
            }
        }
    }

    private InProcessInstance Find(string instanceId) =>
        _instances.TryGetValue(instanceId, out var instance) ? instance : throw new InvalidOperationException($"no instance '{instanceId}'");

    /// <summary>Creates a registered orchestrator or activity with its services.</summary>
    internal object Create(Type type) => ActivatorUtilities.CreateInstance(Services, type);
}
