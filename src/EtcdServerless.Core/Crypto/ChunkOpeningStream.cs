using EtcdServerless.Core.IO;
using System.Buffers;
using System.Security.Cryptography;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Read side of the body: reads one whole chunk, authenticates it, and only then releases its plaintext.
/// The chunk's position (counter) and finality (flag) are part of its nonce, so reordering, splicing,
/// truncation at a chunk boundary and appended data all fail with a specific <see cref="EnvelopeException"/>.
/// </summary>
internal sealed class ChunkOpeningStream : ForwardOnlyReadStream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly AesGcm _aes;
    private readonly byte[] _noncePrefix;
    private readonly byte[] _associatedData;
    private readonly int _chunkSize;
    private readonly byte[] _peekBuffer = new byte[1];
    private byte[]? _cipher;
    private byte[]? _plain;
    private int _plainOffset;
    private int _plainLength;
    private bool _hasLookahead;
    private byte _lookahead;
    private uint _counter;
    private bool _finalSeen;
    private bool _disposed;

    public ChunkOpeningStream(Stream inner, EnvelopeHeader header, ReadOnlySpan<byte> dataKey, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(header);
        _inner = inner;
        _leaveOpen = leaveOpen;
        _aes = new AesGcm(dataKey, EnvelopeFormat.TagSize);
        _noncePrefix = header.NoncePrefix.ToArray();
        _associatedData = header.ChunkAssociatedData;
        _chunkSize = header.ChunkSize;
        _cipher = ArrayPool<byte>.Shared.Rent(_chunkSize + EnvelopeFormat.TagSize);
        _plain = ArrayPool<byte>.Shared.Rent(_chunkSize);
    }

    /// <summary>Whether the final chunk has been read and authenticated (end of the artifact).</summary>
    public bool IsComplete => _finalSeen;

    public override bool CanRead => !_disposed;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_plainOffset == _plainLength && !_finalSeen && !buffer.IsEmpty)
        {
            var full = _chunkSize + EnvelopeFormat.TagSize;
            var length = StartChunk();
            length += _inner.ReadAtLeast(_cipher.AsSpan(length, full - length), full - length, throwOnEndOfStream: false);
            var atEnd = length < full || !Peek();
            OpenChunk(length, atEnd);
        }

        return CopyOut(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_plainOffset == _plainLength && !_finalSeen && !buffer.IsEmpty)
        {
            var full = _chunkSize + EnvelopeFormat.TagSize;
            var length = StartChunk();
            length += await _inner.ReadAtLeastAsync(_cipher.AsMemory(length, full - length), full - length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            var atEnd = length < full || !await PeekAsync(cancellationToken).ConfigureAwait(false);
            OpenChunk(length, atEnd);
        }

        return CopyOut(buffer.Span);
    }

    private int StartChunk()
    {
        if (!_hasLookahead)
        {
            return 0;
        }

        _cipher![0] = _lookahead;
        _hasLookahead = false;
        return 1;
    }

    private bool Peek()
    {
        Span<byte> one = stackalloc byte[1];
        if (_inner.Read(one) == 0)
        {
            return false;
        }

        _lookahead = one[0];
        _hasLookahead = true;
        return true;
    }

    private async ValueTask<bool> PeekAsync(CancellationToken cancellationToken)
    {
        if (await _inner.ReadAsync(_peekBuffer, cancellationToken).ConfigureAwait(false) == 0)
        {
            return false;
        }

        _lookahead = _peekBuffer[0];
        _hasLookahead = true;
        return true;
    }

    private void OpenChunk(int length, bool atEnd)
    {
        var full = _chunkSize + EnvelopeFormat.TagSize;
        if (length < EnvelopeFormat.TagSize)
        {
            // Not even a tag: the writer never produces this, so the artifact was cut.
            if (length == 0)
            {
                throw new EnvelopeTruncatedException(_counter);
            }

            throw new EnvelopeChunkAuthenticationException(_counter);
        }

        if (atEnd)
        {
            if (TryOpen(length, final: true))
            {
                _finalSeen = true;
                return;
            }

            // A whole non-final chunk at the end of the stream: everything after it was cut off.
            if (length == full && TryOpen(length, final: false))
            {
                ClearPlain();
                throw new EnvelopeTruncatedException((long)_counter + 1);
            }

            throw new EnvelopeChunkAuthenticationException(_counter);
        }

        if (TryOpen(length, final: false))
        {
            _counter++;
            return;
        }

        // A full-size final chunk followed by more bytes: the bytes were appended.
        if (TryOpen(length, final: true))
        {
            ClearPlain();
            throw new EnvelopeTrailingDataException($"data after final chunk {_counter}");
        }

        throw new EnvelopeChunkAuthenticationException(_counter);
    }

    private bool TryOpen(int length, bool final)
    {
        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        ChunkNonce.Write(_noncePrefix, _counter, final, nonce);
        var plainLength = length - EnvelopeFormat.TagSize;
        try
        {
            // AesGcm.Decrypt writes nothing usable (it zeroes the output) when the tag does not match.
            _aes.Decrypt(nonce, _cipher.AsSpan(0, plainLength), _cipher.AsSpan(plainLength, EnvelopeFormat.TagSize), _plain.AsSpan(0, plainLength), _associatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }

        _plainOffset = 0;
        _plainLength = plainLength;
        return true;
    }

    private void ClearPlain()
    {
        CryptographicOperations.ZeroMemory(_plain.AsSpan(0, _plainLength));
        _plainOffset = 0;
        _plainLength = 0;
    }

    private int CopyOut(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, _plainLength - _plainOffset);
        _plain.AsSpan(_plainOffset, count).CopyTo(buffer);
        _plainOffset += count;
        return count;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _aes.Dispose();
            ReturnBuffers();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _aes.Dispose();
            ReturnBuffers();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void ReturnBuffers()
    {
        if (_plain is not null)
        {
            CryptographicOperations.ZeroMemory(_plain);
            ArrayPool<byte>.Shared.Return(_plain);
            _plain = null;
        }

        if (_cipher is not null)
        {
            ArrayPool<byte>.Shared.Return(_cipher);
            _cipher = null;
        }
    }
}
