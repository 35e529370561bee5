using System.Threading.Channels;

namespace EtcdServerless.Core.IO;

/// <summary>
/// Reads one source once and hands every chunk to several readers (one per consumer, e.g. one HTTP upload per
/// agent). Each reader has a small bounded queue, so the slowest consumer sets the pace and memory stays at
/// about <c>consumers x depth x chunk</c> bytes, never the whole source. A consumer that stops reading (its upload
/// failed) is dropped; the others go on.
/// </summary>
internal sealed class BroadcastStreams
{
    private readonly Channel<ReadOnlyMemory<byte>>[] _queues;
    private readonly bool[] _dropped;
    private readonly int _chunkSize;

    public BroadcastStreams(int consumers, int chunkSize = 1 << 20, int depth = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consumers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _chunkSize = chunkSize;
        _dropped = new bool[consumers];
        _queues = [.. Enumerable.Range(0, consumers).Select(_ => Channel.CreateBounded<ReadOnlyMemory<byte>>(
            new BoundedChannelOptions(depth) { SingleReader = true, SingleWriter = true }))];
        Readers = [.. _queues.Select(q => (Stream)new QueueReadStream(q.Reader))];
    }

    /// <summary>One read stream per consumer, in order.</summary>
    public IReadOnlyList<Stream> Readers { get; }

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
                // A fresh array per chunk: every reader sees the same bytes, and none can be reused under another.
                var chunk = new byte[_chunkSize];
                var filled = 0;
                int read;
                while (filled < chunk.Length && (read = await source.ReadAsync(chunk.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }

                if (filled == 0)
                {
                    break;
                }

                for (var i = 0; i < _queues.Length; i++)
                {
                    if (!_dropped[i])
                    {
                        try
                        {
                            await _queues[i].Writer.WriteAsync(chunk.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                        }
                        catch (ChannelClosedException)
                        {
                            _dropped[i] = true;
                        }
                    }
                }

                if (filled < chunk.Length)
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

    private sealed class QueueReadStream(ChannelReader<ReadOnlyMemory<byte>> queue) : ForwardOnlyReadStream
    {
        private ReadOnlyMemory<byte> _current;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_current.IsEmpty)
            {
                if (!await queue.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    return 0;
                }

                queue.TryRead(out _current);
            }

            var n = Math.Min(buffer.Length, _current.Length);
            _current.Span[..n].CopyTo(buffer.Span);
            _current = _current[n..];
            return n;
        }
    }
}
