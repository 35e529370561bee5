using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace EtcdServerless.Etcd.Client;

/// <summary>How <see cref="WindowedHistoryReader"/> splits a history read.</summary>
internal sealed record WindowedHistoryOptions
{
    /// <summary>Watches open at once (1 = one plain watch).</summary>
    public int MaxWindows { get; init; } = 8;

    /// <summary>Fewest revisions a window covers.</summary>
    public int MinWindowRevisions { get; init; } = 1_000;

    /// <summary>Most revisions a window covers.</summary>
    public int MaxWindowRevisions { get; init; } = 20_000;

    /// <summary>
    /// Bytes of events (keys and values) a window that is not yet being written may hold; when full, that window's
    /// watch stops being read until its turn comes. One revision larger than this still passes on its own.
    /// </summary>
    public long BufferBytesPerWindow { get; init; } = 4L * 1024 * 1024;

    /// <summary>Throws when the options cannot work.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWindows, 1, nameof(MaxWindows));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinWindowRevisions, 1, nameof(MinWindowRevisions));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWindowRevisions, MinWindowRevisions, nameof(MaxWindowRevisions));
        ArgumentOutOfRangeException.ThrowIfLessThan(BufferBytesPerWindow, 1, nameof(BufferBytesPerWindow));
    }
}

/// <summary>
/// Reads the whole key space's history from one revision to another through several watches at once, each over its
/// own window of revisions, and returns the revisions in order.
/// </summary>
/// <remarks>
/// Why: a watch that starts in the past is served by the member's sync loop, which hands each catching-up watcher at
/// most 1,000 revisions per pass and then waits (100 ms, or as long as the pass took). One watch therefore reads a busy
/// member's history at a few thousand revisions a second, slower than Kubernetes writes at peak. Every catching-up
/// watcher gets its 1,000 revisions from the same pass, so N watches over consecutive windows read N times as fast
/// for the same work on the member. Each window is its own Watch call (its own HTTP/2 stream), so a window ahead of
/// the one being written can be paused (its buffer full) without holding up the others; memory stays within
/// <see cref="WindowedHistoryOptions.BufferBytesPerWindow"/> per window plus each stream's receive window.
/// Only the whole key space is read this way: there every revision holds at least one event, which is how a window
/// knows it has ended.
/// </remarks>
internal sealed class WindowedHistoryReader(EtcdClient client, WindowedHistoryOptions? options = null)
{
    private static readonly byte[] s_allKeys = [0];

    private readonly WindowedHistoryOptions _options = Validated(options ?? new WindowedHistoryOptions());

    /// <summary>The window size for a read of <paramref name="revisions"/> revisions.</summary>
    public long WindowSize(long revisions) =>
        Math.Clamp((revisions + _options.MaxWindows - 1) / _options.MaxWindows, _options.MinWindowRevisions, _options.MaxWindowRevisions);

    /// <summary>
    /// Every revision from <paramref name="fromRevision"/> to <paramref name="toRevision"/> (inclusive), in order, as
    /// <see cref="EtcdClient.WatchHistoryAsync"/> returns them.
    /// </summary>
    /// <exception cref="Errors.EtcdCompactedException">A window's first revision was compacted away (reported when that window's turn comes).</exception>
    /// <exception cref="Errors.EtcdDeadlineExceededException">A window's watch stayed silent for <paramref name="idleTimeout"/>.</exception>
    public async IAsyncEnumerable<EtcdRevisionEvents> ReadAsync(
        long fromRevision, long toRevision, TimeSpan idleTimeout, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromRevision, 1);
        if (toRevision < fromRevision)
        {
            yield break;
        }

        var size = WindowSize(toRevision - fromRevision + 1);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var open = new Queue<Window>();
        var next = fromRevision;
        try
        {
            while (open.Count > 0 || next <= toRevision)
            {
                while (open.Count < _options.MaxWindows && next <= toRevision)
                {
                    var to = Math.Min(toRevision, next + size - 1);
                    open.Enqueue(Window.Start(client, next, to, idleTimeout, _options.BufferBytesPerWindow, stop.Token));
                    next = to + 1;
                }

                var head = open.Peek();
                await foreach (var revision in head.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return revision;
                }

                await head.Pump.ConfigureAwait(false);
                open.Dequeue();
            }
        }
        finally
        {
            // Early exit or a failure: stop the windows still reading and wait for them, so no watch outlives the read.
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var window in open)
            {
                try
                {
                    await window.Pump.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Cancelled, or failed after the read stopped needing it: the read's own outcome is what counts.
                }
            }
        }
    }

    private static WindowedHistoryOptions Validated(WindowedHistoryOptions options)
    {
        options.Validate();
        return options;
    }

    /// <summary>One window: its watch feeding a buffer bounded in bytes.</summary>
    private sealed class Window
    {
        private readonly Channel<(EtcdRevisionEvents Revision, long Bytes)> _items =
            Channel.CreateUnbounded<(EtcdRevisionEvents, long)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

        private readonly Lock _gate = new();
        private readonly long _capacity;
        private long _buffered;
        private TaskCompletionSource? _spaceFreed;

        private Window(long capacity) => _capacity = capacity;

        public Task Pump { get; private set; } = Task.CompletedTask;

        public static Window Start(EtcdClient client, long from, long to, TimeSpan idleTimeout, long capacity, CancellationToken cancellationToken)
        {
            var window = new Window(capacity);
            window.Pump = Task.Run(() => window.PumpAsync(client, from, to, idleTimeout, cancellationToken), CancellationToken.None);
            return window;
        }

        public async IAsyncEnumerable<EtcdRevisionEvents> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await foreach (var (revision, bytes) in _items.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                TaskCompletionSource? freed;
                lock (_gate)
                {
                    _buffered -= bytes;
                    freed = _spaceFreed;
                    _spaceFreed = null;
                }

                freed?.TrySetResult();
                yield return revision;
            }
        }

        private async Task PumpAsync(EtcdClient client, long from, long to, TimeSpan idleTimeout, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var revision in client.WatchHistoryAsync(s_allKeys, s_allKeys, from, to, idleTimeout, cancellationToken).ConfigureAwait(false))
                {
                    var bytes = Weigh(revision);
                    await WaitForSpaceAsync(bytes, cancellationToken).ConfigureAwait(false);
                    _items.Writer.TryWrite((revision, bytes));
                }

                _items.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                // The reader sees the failure when this window's turn comes, after the revisions before it.
                _items.Writer.TryComplete(ex);
                throw;
            }
        }

        private async Task WaitForSpaceAsync(long bytes, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task freed;
                lock (_gate)
                {
                    if (_buffered == 0 || _buffered + bytes <= _capacity)
                    {
                        _buffered += bytes;
                        return;
                    }

                    _spaceFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    freed = _spaceFreed.Task;
                }

                await freed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private static long Weigh(EtcdRevisionEvents revision)
        {
            // Keys and values dominate; the fixed part stands for the record and its revisions.
            long bytes = 0;
            foreach (var e in revision.Events)
            {
                bytes += e.Kv.Key.Length + e.Kv.Value.Length + 64;
            }

            return bytes;
        }
    }
}
