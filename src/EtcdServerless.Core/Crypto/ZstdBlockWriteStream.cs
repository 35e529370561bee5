using System.Buffers;
using System.Security.Cryptography;
using ZstdSharp;
using EtcdServerless.Core.IO;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Writes plaintext as independent zstd blocks (<see cref="ZstdBlockFormat"/>) into the chunk sealer. The async
/// path is a two-stage pipeline: while one block is compressed, sealed and written on a worker, the caller fills
/// the next, so compression runs on a second core beside the snapshot stream; memory is two plaintext blocks and
/// one output block. A block that would not shrink by 1/32 is stored as is, and after a stored block only a
/// 64 KiB probe of the next is compressed first, so incompressible data costs almost no compression time.
/// Call <see cref="CompleteAsync"/> to write the last partial block; disposal alone drops it.
/// </summary>
internal sealed class ZstdBlockWriteStream : ForwardOnlyWriteStream
{
    private readonly Stream _inner;
    private readonly int _blockSize;
    private readonly Compressor _compressor;
    private byte[]? _filling;
    private byte[]? _spare;
    private byte[]? _output;
    private int _filled;
    private Task _pending = Task.CompletedTask;
    private bool _lastStored;
    private bool _disposed;

    /// <param name="inner">The sealer; not disposed by this stream.</param>
    /// <param name="blockSize">Plaintext bytes per block (the envelope's chunk size).</param>
    /// <param name="level">zstd compression level.</param>
    public ZstdBlockWriteStream(Stream inner, int blockSize, int level)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockSize, ZstdBlockFormat.MaxBlockSize);
        _inner = inner;
        _blockSize = blockSize;
        _compressor = new Compressor(level);
        _filling = ArrayPool<byte>.Shared.Rent(blockSize);
        _spare = ArrayPool<byte>.Shared.Rent(blockSize);
        _output = ArrayPool<byte>.Shared.Rent(ZstdBlockFormat.HeaderSize + Math.Max(blockSize, Compressor.GetCompressBound(blockSize)));
    }

    /// <summary>Blocks stored as is because compression would not have saved enough (for tests and benchmarks).</summary>
    public long StoredBlocks { get; private set; }

    /// <summary>Blocks written compressed.</summary>
    public long CompressedBlocks { get; private set; }

    public override bool CanWrite => !_disposed;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!buffer.IsEmpty)
        {
            if (_filled == _blockSize)
            {
                _pending.GetAwaiter().GetResult();
                WriteBlock(_filling!, _filled);
                _filled = 0;
            }

            var take = Math.Min(buffer.Length, _blockSize - _filled);
            buffer[..take].CopyTo(_filling.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!buffer.IsEmpty)
        {
            if (_filled == _blockSize)
            {
                await StartBlockAsync(cancellationToken).ConfigureAwait(false);
            }

            var take = Math.Min(buffer.Length, _blockSize - _filled);
            buffer.Span[..take].CopyTo(_filling.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Writes the last (partial) block and waits until every block reached the sealer.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _pending.ConfigureAwait(false);
        if (_filled > 0)
        {
            await WriteBlockAsync(_filling!, _filled, cancellationToken).ConfigureAwait(false);
            _filled = 0;
        }
    }

    // Hands the full block to a worker once the previous one is done (blocks reach the sealer in order) and
    // takes the other buffer to fill.
    private async Task StartBlockAsync(CancellationToken cancellationToken)
    {
        await _pending.ConfigureAwait(false);
        var block = _filling!;
        var length = _filled;
        (_filling, _spare) = (_spare, _filling);
        _filled = 0;
        _pending = Task.Run(() => WriteBlockAsync(block, length, cancellationToken), cancellationToken);
    }

    private async Task WriteBlockAsync(byte[] block, int length, CancellationToken cancellationToken)
    {
        var encoded = Encode(block.AsSpan(0, length));
        if (encoded > 0)
        {
            await _inner.WriteAsync(_output.AsMemory(0, encoded), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _inner.WriteAsync(_output.AsMemory(0, ZstdBlockFormat.HeaderSize), cancellationToken).ConfigureAwait(false);
            await _inner.WriteAsync(block.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
    }

    private void WriteBlock(byte[] block, int length)
    {
        var encoded = Encode(block.AsSpan(0, length));
        if (encoded > 0)
        {
            _inner.Write(_output!, 0, encoded);
        }
        else
        {
            _inner.Write(_output!, 0, ZstdBlockFormat.HeaderSize);
            _inner.Write(block, 0, length);
        }
    }

    // Returns the length of header + compressed payload in _output, or 0 when the block is to be stored as is
    // (then _output holds only its header).
    private int Encode(ReadOnlySpan<byte> block)
    {
        var output = _output.AsSpan();
        var payload = output[ZstdBlockFormat.HeaderSize..];
        if (_lastStored && block.Length > 2 * ZstdBlockFormat.ProbeSize)
        {
            var probe = _compressor.Wrap(block[..ZstdBlockFormat.ProbeSize], payload);
            if (!Saves(probe, ZstdBlockFormat.ProbeSize))
            {
                return Store(block.Length);
            }
        }

        var compressed = _compressor.Wrap(block, payload);
        if (!Saves(compressed, block.Length))
        {
            return Store(block.Length);
        }

        _lastStored = false;
        CompressedBlocks++;
        ZstdBlockFormat.WriteHeader(output, ZstdBlockFormat.Zstd, block.Length, compressed);
        return ZstdBlockFormat.HeaderSize + compressed;
    }

    private int Store(int length)
    {
        _lastStored = true;
        StoredBlocks++;
        ZstdBlockFormat.WriteHeader(_output, ZstdBlockFormat.Stored, length, length);
        return 0;
    }

    private static bool Saves(int compressed, int plain) => compressed < plain - (plain / ZstdBlockFormat.MinSavingDivisor);

    public override void Flush()
    {
        // Block boundaries are the writer's: nothing partial is pushed; the sealer flushes on completion.
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            try
            {
                _pending.GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException or InvalidOperationException)
            {
                // The block failed or was cancelled; the artifact is abandoned anyway.
            }

            ReleaseBuffers();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            try
            {
                await _pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException or InvalidOperationException)
            {
                // The block failed or was cancelled; the artifact is abandoned anyway.
            }

            ReleaseBuffers();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    // Only after the worker finished: a buffer must never go back to the pool while it is read.
    private void ReleaseBuffers()
    {
        _compressor.Dispose();
        foreach (var buffer in new[] { _filling, _spare, _output })
        {
            if (buffer is not null)
            {
                CryptographicOperations.ZeroMemory(buffer);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        _filling = _spare = _output = null;
    }
}
