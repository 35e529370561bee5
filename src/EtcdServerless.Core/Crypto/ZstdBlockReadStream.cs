using System.Buffers;
using System.Security.Cryptography;
using EtcdServerless.Core.IO;
using ZstdSharp;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Reads the blocks written by <see cref="ZstdBlockWriteStream"/> from the opened (authenticated) plaintext and
/// yields the original bytes. Memory is one plaintext block and one compressed payload, each bounded by
/// <see cref="ZstdBlockFormat.MaxBlockSize"/> whatever a header claims. Malformed blocks are
/// <see cref="InvalidDataException"/>; the inner stream ending inside a block is one too.
/// </summary>
internal sealed class ZstdBlockReadStream : ForwardOnlyReadStream
{
    private readonly Stream _inner;
    private readonly Decompressor _decompressor = new();
    private readonly byte[] _header = new byte[ZstdBlockFormat.HeaderSize];
    private byte[]? _block;
    private byte[]? _payload;
    private int _offset;
    private int _length;
    private bool _ended;
    private bool _disposed;

    /// <param name="inner">The opened envelope body; not disposed by this stream.</param>
    public ZstdBlockReadStream(Stream inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    public override bool CanRead => !_disposed;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_offset == _length && !NextBlock())
        {
            return 0;
        }

        return Take(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_offset == _length && !await NextBlockAsync(cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        return Take(buffer.Span);
    }

    private int Take(Span<byte> buffer)
    {
        var take = Math.Min(buffer.Length, _length - _offset);
        _block.AsSpan(_offset, take).CopyTo(buffer);
        _offset += take;
        return take;
    }

    private bool NextBlock()
    {
        if (_ended)
        {
            return false;
        }

        var first = _inner.Read(_header);
        if (first == 0)
        {
            _ended = true;
            return false;
        }

        ReadExactly(() => _inner.ReadExactly(_header, first, _header.Length - first));
        var (kind, plain, payload) = ZstdBlockFormat.ReadHeader(_header);
        var target = Prepare(kind, plain, payload);
        ReadExactly(() => _inner.ReadExactly(target, 0, payload));
        Decode(kind, plain, payload);
        return true;
    }

    private async ValueTask<bool> NextBlockAsync(CancellationToken cancellationToken)
    {
        if (_ended)
        {
            return false;
        }

        var first = await _inner.ReadAsync(_header, cancellationToken).ConfigureAwait(false);
        if (first == 0)
        {
            _ended = true;
            return false;
        }

        try
        {
            await _inner.ReadExactlyAsync(_header.AsMemory(first), cancellationToken).ConfigureAwait(false);
            var (kind, plain, payload) = ZstdBlockFormat.ReadHeader(_header);
            var target = Prepare(kind, plain, payload);
            await _inner.ReadExactlyAsync(target.AsMemory(0, payload), cancellationToken).ConfigureAwait(false);
            Decode(kind, plain, payload);
            return true;
        }
        catch (EndOfStreamException ex)
        {
            throw Cut(ex);
        }
    }

    // Returns the buffer the payload is read into: the block itself when stored, else the payload buffer.
    private byte[] Prepare(byte kind, int plain, int payload)
    {
        _block = Ensure(_block, plain);
        if (kind == ZstdBlockFormat.Stored)
        {
            return _block;
        }

        _payload = Ensure(_payload, payload);
        return _payload;
    }

    private void Decode(byte kind, int plain, int payload)
    {
        if (kind == ZstdBlockFormat.Zstd)
        {
            int written;
            try
            {
                written = _decompressor.Unwrap(_payload.AsSpan(0, payload), _block.AsSpan(0, plain));
            }
            catch (ZstdException ex)
            {
                throw new InvalidDataException($"zstd block does not decompress: {ex.Message}", ex);
            }

            if (written != plain)
            {
                throw new InvalidDataException($"zstd block decompressed to {written} bytes, its header says {plain}");
            }
        }

        _offset = 0;
        _length = plain;
    }

    private static void ReadExactly(Action read)
    {
        try
        {
            read();
        }
        catch (EndOfStreamException ex)
        {
            throw Cut(ex);
        }
    }

    private static InvalidDataException Cut(EndOfStreamException ex) => new("the block stream ends inside a block", ex);

    private static byte[] Ensure(byte[]? buffer, int size)
    {
        if (buffer is not null && buffer.Length >= size)
        {
            return buffer;
        }

        Return(buffer);
        return ArrayPool<byte>.Shared.Rent(size);
    }

    private static void Return(byte[]? buffer)
    {
        if (buffer is not null)
        {
            CryptographicOperations.ZeroMemory(buffer);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _decompressor.Dispose();
            Return(_block);
            Return(_payload);
            _block = _payload = null;
        }

        base.Dispose(disposing);
    }
}
