using System.Collections.Concurrent;
using System.Threading.Channels;

namespace EtcdServerless.Core.IO;

/// <summary>
/// Reads one source once and hands every chunk to several readers (one per consumer, e.g. one HTTP upload per
/// agent). Each reader has a small bounded queue, so the slowest consumer sets the pace and memory stays at
/// about <c>consumers x depth x chunk</c> bytes, never the whole source. A consumer that stops reading (its upload
/// failed) is dropped; the others go on.
/// </summary>
/// <remarks>
/// A chunk's array goes back to this instance's free list once every reader has passed it on, so a gigabyte costs a
/// handful of arrays instead of one fresh (zeroed, large-object) array per chunk. A reader copied into by
/// <see cref="Stream.CopyToAsync(Stream, int, CancellationToken)"/> (as <c>StreamContent</c> does) writes each chunk
/// straight to the destination, with no copy into a buffer of its own.
/// </remarks>
internal sealed class BroadcastStreams
{
    private readonly Channel<Chunk>[] _queues;
    private readonly bool[] _dropped;
    private readonly int _chunkSize;
    private readonly ConcurrentQueue<byte[]> _free = new();
    private int _allocated;

    public BroadcastStreams(int consumers, int chunkSize = 1 << 20, int depth = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consumers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _chunkSize = chunkSize;
        _dropped = new bool[consumers];
        _queues = [.. Enumerable.Range(0, consumers).Select(_ => Channel.CreateBounded<Chunk>(
            new BoundedChannelOptions(depth) { SingleReader = true, SingleWriter = true }))];
        Readers = [.. _queues.Select(q => (Stream)new QueueReadStream(q.Reader))];
    }

    /// <summary>One read stream per consumer, in order.</summary>
    public IReadOnlyList<Stream> Readers { get; }

    /// <summary>How many chunk arrays this instance has allocated so far (bounded by the readers' queues, not the source).</summary>
    internal int AllocatedChunks => Volatile.Read(ref _allocated);

    /// <summary>Stops feeding consumer <paramref name="index"/> (its reader fails with <see cref="IOException"/>).</summary>
    public void Drop(int index)
    {
        _dropped[index] = true;
        _queues[index].Writer.TryComplete(new IOException("this consumer was dropped"));
    }

    /// <summary>Copies <paramref name="source"/> to every live reader, then completes them (or faults them with the source's error).</summary>
    public async Task PumpAsync(Stream source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            while (true)
            {
                // Every reader sees the same array; it is reused only after the last live reader released it.
                if (!_free.TryDequeue(out var array))
                {
                    array = GC.AllocateUninitializedArray<byte>(_chunkSize);
                    Interlocked.Increment(ref _allocated);
                }

                var filled = 0;
                int read;
                while (filled < array.Length && (read = await source.ReadAsync(array.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }

                if (filled == 0)
                {
                    _free.Enqueue(array);
                    break;
                }

                var live = _dropped.Count(d => !d);
                var chunk = new Chunk(array, filled, live + 1, _free);
                for (var i = 0; i < _queues.Length; i++)
                {
                    if (!_dropped[i])
                    {
                        try
                        {
                            await _queues[i].Writer.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                        }
                        catch (ChannelClosedException)
                        {
                            _dropped[i] = true;
                        }
                    }
                }

                // The pump's own reference: held until every write above was queued, so a fast reader cannot recycle early.
                chunk.Release();
                if (filled < array.Length)
                {
                    break;
                }
            }

            foreach (var queue in _queues)
            {
                queue.Writer.TryComplete();
            }
        }
        catch (Exception ex)
        {
            foreach (var queue in _queues)
            {
                queue.Writer.TryComplete(ex);
            }

            throw;
        }
    }

    // One filled array shared by the readers; the last Release puts the array back on the free list.
    private sealed class Chunk(byte[] array, int length, int references, ConcurrentQueue<byte[]> free)
    {
        private int _references = references;

        public ReadOnlyMemory<byte> Memory { get; } = array.AsMemory(0, length);

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                free.Enqueue(array);
            }
        }
    }

    private sealed class QueueReadStream(ChannelReader<Chunk> queue) : ForwardOnlyReadStream
    {
        private Chunk? _chunk;
        private ReadOnlyMemory<byte> _current;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_current.IsEmpty)
            {
                _chunk?.Release();
                _chunk = null;
                if (!await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }

                if (queue.TryRead(out var next))
                {
                    _chunk = next;
                    _current = next.Memory;
                }
            }

            var n = Math.Min(buffer.Length, _current.Length);
            _current.Span[..n].CopyTo(buffer.Span);
            _current = _current[n..];
            return n;
        }

        public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(destination);
            if (!_current.IsEmpty)
            {
                await destination.WriteAsync(_current, cancellationToken).ConfigureAwait(false);
                _current = default;
            }

            _chunk?.Release();
            _chunk = null;
            while (await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (queue.TryRead(out var next))
                {
                    await destination.WriteAsync(next.Memory, cancellationToken).ConfigureAwait(false);
                    next.Release();
                }
            }
        }
    }
}
