using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Orchestration.Engine;

/// <summary>
/// One execution of an orchestrator, in Durable's episode model: orchestrator code runs on a single work
/// loop until it waits; then the next completion event is applied (its timestamp becomes
/// <see cref="CurrentUtcDateTime"/>) and the orchestrator resumes. Completions are applied only while the
/// orchestrator is idle and in arrival order, and each one is recorded, so re-applying the recorded events
/// in the same order re-runs the orchestrator identically (that is what a replay checks).
/// </summary>
internal sealed class OrchestrationExecution : IOrchestrationContext
{
    private readonly Lock _gate = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _posted = new();
    private readonly Queue<HistoryEvent> _completions = new();
    // Wake-ups of the loop; a spurious one only makes it look again.
    private readonly Channel<bool> _signal = Channel.CreateUnbounded<bool>();
    private readonly List<HistoryEvent> _history = [];
    private readonly Dictionary<int, Action<HistoryEvent>> _pending = [];
    private readonly IOrchestrationBackend _backend;
    private readonly OrchestrationSynchronizationContext _synchronizationContext;
    private readonly bool _replaying;
    private readonly string? _inputJson;
    private int _nextSequence;
    private int _guidCounter;
    private DateTime _currentUtc;
    private Exception? _abort;

    /// <param name="instanceId">The instance id.</param>
    /// <param name="name">The orchestrator name.</param>
    /// <param name="startedUtc">The execution's start time (the first <see cref="CurrentUtcDateTime"/>).</param>
    /// <param name="inputJson">The serialized input.</param>
    /// <param name="backend">Who fulfils scheduled activities and timers.</param>
    /// <param name="replaying">True for a replay: <see cref="IsReplaying"/> is true and an idle orchestrator with
    /// nothing left to apply is a divergence instead of a wait.</param>
    public OrchestrationExecution(string instanceId, string name, DateTime startedUtc, string? inputJson, IOrchestrationBackend backend, bool replaying = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(backend);
        InstanceId = instanceId;
        Name = name;
        _currentUtc = DateTime.SpecifyKind(startedUtc, DateTimeKind.Utc);
        _inputJson = inputJson;
        _backend = backend;
        _replaying = replaying;
        _synchronizationContext = new OrchestrationSynchronizationContext(this);
    }

    /// <inheritdoc/>
    public string InstanceId { get; }

    /// <summary>The orchestrator name.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public DateTime CurrentUtcDateTime => _currentUtc;

    /// <inheritdoc/>
    public bool IsReplaying => _replaying;

    /// <summary>The last custom status, as JSON.</summary>
    public string? CustomStatusJson { get; private set; }

    /// <summary>A copy of the history recorded so far.</summary>
    public IReadOnlyList<HistoryEvent> History
    {
        get
        {
            lock (_gate)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>Completions delivered but not applied yet.</summary>
    public int UndeliveredCompletions
    {
        get
        {
            lock (_gate)
            {
                return _completions.Count;
            }
        }
    }

    /// <summary>
    /// Runs the orchestrator to its end and returns the final event (ExecutionCompleted or ExecutionFailed).
    /// Throws the exception given to <see cref="Abort"/>, or <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<HistoryEvent> RunAsync(RegisteredOrchestrator orchestrator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(orchestrator);
        Record(new HistoryEvent(HistoryEventKind.ExecutionStarted, -1, _currentUtc) { Name = Name, InputJson = _inputJson });
        Task<string?>? run = null;
        Post(_ => run = orchestrator.RunAsync(this, _inputJson), null);
        while (true)
        {
            DrainPosted();
            if (_abort is { } abort)
            {
                throw abort;
            }

            if (run is { IsCompleted: true })
            {
                break;
            }

            HistoryEvent? next;
            lock (_gate)
            {
                _completions.TryDequeue(out next);
            }

            if (next is not null)
            {
                RunOnLoop(_ => Apply(next), null);
                continue;
            }

            if (_replaying)
            {
                throw new OrchestrationDivergenceException(
                    "The orchestrator waits for something the recorded history never completed " +
                    "(a call the original run did not make, or a non-deterministic await).");
            }

            await _signal.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }

        var final = run!.Status == TaskStatus.RanToCompletion
            ? new HistoryEvent(HistoryEventKind.ExecutionCompleted, -1, _currentUtc) { Name = Name, OutputJson = run.Result }
            : new HistoryEvent(HistoryEventKind.ExecutionFailed, -1, _currentUtc)
            {
                Name = Name,
                Failure = FailureDetails.FromException(run.Exception?.InnerException ?? new TaskCanceledException(run)),
            };
        Record(final);
        return final;
    }

    /// <summary>Queues a completion (activity completed/failed, timer fired). Thread-safe.</summary>
    public void Deliver(HistoryEvent completion)
    {
        ArgumentNullException.ThrowIfNull(completion);
        lock (_gate)
        {
            _completions.Enqueue(completion);
        }

        _signal.Writer.TryWrite(true);
    }

    /// <summary>Stops the execution: <see cref="RunAsync"/> throws <paramref name="reason"/>. Thread-safe.</summary>
    public void Abort(Exception reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        Interlocked.CompareExchange(ref _abort, reason, null);
        _signal.Writer.TryWrite(true);
    }

    /// <inheritdoc/>
    public Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, ActivityRetryPolicy? retry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);

        // Serialize now, on the orchestrator's side of the seam: a non-serializable input fails here, as on Durable.
        var inputJson = OrchestrationJson.Serialize(input);
        return retry is null ? ScheduleActivity<TResult>(name, inputJson) : CallWithRetryAsync<TResult>(name, inputJson, retry);
    }

    /// <inheritdoc/>
    public Task CreateTimer(DateTime fireAtUtc, CancellationToken cancellationToken)
    {
        var fireAt = fireAtUtc.Kind == DateTimeKind.Local ? fireAtUtc.ToUniversalTime() : DateTime.SpecifyKind(fireAtUtc, DateTimeKind.Utc);
        var completion = new TaskCompletionSource();
        int sequence;
        HistoryEvent scheduled;
        lock (_gate)
        {
            sequence = _nextSequence++;
            scheduled = new HistoryEvent(HistoryEventKind.TimerCreated, sequence, _currentUtc) { FireAtUtc = fireAt };
            _history.Add(scheduled);
            _pending[sequence] = e =>
            {
                if (e.Kind == HistoryEventKind.TimerFired)
                {
                    completion.TrySetResult();
                }
                else
                {
                    completion.TrySetException(new OrchestrationDivergenceException($"Timer #{e.Sequence} got a {e.Kind} event."));
                }
            };
        }

        if (cancellationToken.CanBeCanceled)
        {
            // Cancellation comes from orchestrator code (e.g. the loser of a WhenAny race), so it is deterministic
            // and not recorded; a later firing of the real timer is simply unmatched.
            cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    _pending.Remove(sequence);
                }

                completion.TrySetCanceled(cancellationToken);
            });
        }

        _backend.ScheduleTimer(this, scheduled);
        return completion.Task;
    }

    /// <inheritdoc/>
    public void SetCustomStatus(object? customStatus)
    {
        CustomStatusJson = OrchestrationJson.Serialize(customStatus);
        _backend.CustomStatusChanged(this, CustomStatusJson);
    }

    /// <inheritdoc/>
    public Guid NewGuid()
    {
        // A name-based GUID (RFC 4122 version 5 layout) over instance, orchestration time and a counter:
        // the same sequence of calls yields the same GUIDs on every replay.
        var name = $"{InstanceId}_{_currentUtc:O}_{_guidCounter++}";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }

    /// <inheritdoc/>
    public ILogger CreateReplaySafeLogger(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return new ReplaySafeLogger(logger, () => IsReplaying);
    }

    /// <summary>Queues orchestrator work on the loop (called by the synchronization context). Thread-safe.</summary>
    internal void Post(SendOrPostCallback callback, object? state)
    {
        lock (_gate)
        {
            _posted.Enqueue((callback, state));
        }

        _signal.Writer.TryWrite(true);
    }

    private Task<TResult> ScheduleActivity<TResult>(string name, string? inputJson)
    {
        var completion = new TaskCompletionSource<TResult>();
        HistoryEvent scheduled;
        lock (_gate)
        {
            var sequence = _nextSequence++;
            scheduled = new HistoryEvent(HistoryEventKind.ActivityScheduled, sequence, _currentUtc) { Name = name, InputJson = inputJson };
            _history.Add(scheduled);
            _pending[sequence] = e => CompleteActivity(completion, name, e);
        }

        _backend.ScheduleActivity(this, scheduled);
        return completion.Task;
    }

    private async Task<TResult> CallWithRetryAsync<TResult>(string name, string? inputJson, ActivityRetryPolicy retry)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ScheduleActivity<TResult>(name, inputJson).ConfigureAwait(true);
            }
            catch (ActivityFailedException) when (attempt < retry.MaxAttempts)
            {
                // The wait is a durable timer, so retries replay like everything else.
                await CreateTimer(_currentUtc + retry.DelayBeforeRetry(attempt), CancellationToken.None).ConfigureAwait(true);
            }
        }
    }

    private static void CompleteActivity<TResult>(TaskCompletionSource<TResult> completion, string name, HistoryEvent e)
    {
        switch (e.Kind)
        {
            case HistoryEventKind.ActivityCompleted:
                try
                {
                    completion.TrySetResult(OrchestrationJson.Deserialize<TResult>(e.OutputJson)!);
                }
                catch (System.Text.Json.JsonException ex)
                {
                    completion.TrySetException(ex);
                }

                break;
            case HistoryEventKind.ActivityFailed:
                completion.TrySetException(new ActivityFailedException(name, e.Sequence, e.Failure ?? new FailureDetails("Unknown", "The activity failed.")));
                break;
            default:
                completion.TrySetException(new OrchestrationDivergenceException($"Activity #{e.Sequence} got a {e.Kind} event."));
                break;
        }
    }

    private void Apply(HistoryEvent completion)
    {
        Action<HistoryEvent>? complete;
        lock (_gate)
        {
            if (_pending.Remove(completion.Sequence, out complete))
            {
                _history.Add(completion);
                if (completion.Timestamp > _currentUtc)
                {
                    _currentUtc = DateTime.SpecifyKind(completion.Timestamp, DateTimeKind.Utc);
                }
            }
        }

        if (complete is null)
        {
            _backend.UnmatchedCompletion(this, completion);
            return;
        }

        complete(completion);
    }

    private void DrainPosted()
    {
        while (true)
        {
            (SendOrPostCallback Callback, object? State) item;
            lock (_gate)
            {
                if (!_posted.TryDequeue(out item))
                {
                    return;
                }
            }

            RunOnLoop(item.Callback, item.State);
        }
    }

    private void RunOnLoop(SendOrPostCallback callback, object? state)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_synchronizationContext);
        try
        {
            callback(state);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private void Record(HistoryEvent e)
    {
        lock (_gate)
        {
            _history.Add(e);
        }
    }
}
