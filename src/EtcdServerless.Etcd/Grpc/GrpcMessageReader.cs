using System.Buffers;
using System.Buffers.Binary;

namespace EtcdServerless.Etcd.Grpc;

/// <summary>
/// Reads gRPC length-prefixed messages (1 byte compressed flag, 4 bytes big-endian length, payload) from a
/// response body into one pooled buffer. A returned message is valid until the next read.
/// </summary>
internal sealed class GrpcMessageReader : IDisposable
{
    private const int InitialBufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly int _maxMessageSize;
    private readonly byte[] _header = new byte[5];
    private byte[] _buffer;

    public GrpcMessageReader(Stream stream, int maxMessageSize)
    {
        _stream = stream;
        _maxMessageSize = maxMessageSize;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
    }

    /// <summary>Next message, or null at a clean end of the body.</summary>
    /// <exception cref="EndOfStreamException">The body ended inside a message.</exception>
    /// <exception cref="InvalidDataException">Compressed or oversized message.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken = default)
    {
        var read = await _stream.ReadAtLeastAsync(_header, _header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < _header.Length)
        {
            throw new EndOfStreamException($"gRPC message header truncated after {read} of 5 bytes.");
        }

        if (_header[0] != 0)
        {
            throw new InvalidDataException($"gRPC message compression flag {_header[0]} is not supported (no grpc-encoding was requested).");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(_header.AsSpan(1));
        if (length > (uint)_maxMessageSize)
        {
            throw new InvalidDataException($"gRPC message of {length} bytes exceeds the limit of {_maxMessageSize} bytes.");
        }

        var size = (int)length;
        if (_buffer.Length < size)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(size);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        await _stream.ReadExactlyAsync(_buffer.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
        return _buffer.AsMemory(0, size);
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
