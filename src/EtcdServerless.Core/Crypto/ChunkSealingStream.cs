using System.Buffers;
using System.Security.Cryptography;
using EtcdServerless.Core.IO;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Write side of the body: buffers plaintext into chunks and writes each as ciphertext || tag. A full chunk
/// is only sealed once more data arrives, so the final chunk (0..chunkSize bytes, final flag set) is written
/// by <see cref="CompleteAsync"/> alone; disposal without it leaves an artifact that fails as truncated.
/// The async path double-buffers: chunk N+1 is sealed while chunk N is still being written, so encryption
/// overlaps the store's I/O (at most two sealed chunks are in memory).
/// </summary>
internal sealed class ChunkSealingStream : ForwardOnlyWriteStream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly AesGcm _aes;
    private readonly byte[] _noncePrefix;
    private readonly byte[] _associatedData;
    private readonly int _chunkSize;
    private readonly IncrementalHash? _ciphertextHash;
    private byte[]? _plain;
    private byte[]? _cipher;
    private byte[]? _spareCipher;
    private Task _pendingWrite = Task.CompletedTask;
    private int _filled;
    private uint _counter;
    private bool _completed;
    private bool _disposed;

    public ChunkSealingStream(Stream inner, EnvelopeHeader header, ReadOnlySpan<byte> dataKey, IncrementalHash? ciphertextHash, bool leaveOpen)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(header);
        _inner = inner;
        _leaveOpen = leaveOpen;
        _aes = new AesGcm(dataKey, EnvelopeFormat.TagSize);
        _noncePrefix = header.NoncePrefix.ToArray();
        _associatedData = header.ChunkAssociatedData;
        _chunkSize = header.ChunkSize;
        _ciphertextHash = ciphertextHash;
        _plain = ArrayPool<byte>.Shared.Rent(_chunkSize);
        _cipher = ArrayPool<byte>.Shared.Rent(_chunkSize + EnvelopeFormat.TagSize);
        _spareCipher = ArrayPool<byte>.Shared.Rent(_chunkSize + EnvelopeFormat.TagSize);
    }

    /// <summary>Bytes written to the inner stream by this stream (the header is counted by the caller).</summary>
    public long BytesWritten { get; private set; }

    public bool IsCompleted => _completed;

    public override bool CanWrite => !_disposed && !_completed;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureWritable();
        while (!buffer.IsEmpty)
        {
            if (_filled == _chunkSize)
            {
                _pendingWrite.GetAwaiter().GetResult();
                var length = Seal(final: false);
                _inner.Write(_cipher!, 0, length);
            }

            var take = Math.Min(buffer.Length, _chunkSize - _filled);
            buffer[..take].CopyTo(_plain.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        while (!buffer.IsEmpty)
        {
            if (_filled == _chunkSize)
            {
                await SealAndStartWriteAsync(final: false, cancellationToken).ConfigureAwait(false);
            }

            var take = Math.Min(buffer.Length, _chunkSize - _filled);
            buffer.Span[..take].CopyTo(_plain.AsSpan(_filled));
            _filled += take;
            buffer = buffer[take..];
        }
    }

    /// <summary>Seals and writes the final chunk and flushes the inner stream. Nothing can be written afterwards.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        EnsureWritable();
        await SealAndStartWriteAsync(final: true, cancellationToken).ConfigureAwait(false);
        await _pendingWrite.ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        _completed = true;
    }

    // Seals into the free buffer while the previous chunk's write may still run, then waits for that write
    // (writes to the inner stream stay sequential) and starts this one without awaiting it.
    private async Task SealAndStartWriteAsync(bool final, CancellationToken cancellationToken)
    {
        var length = Seal(final);
        await _pendingWrite.ConfigureAwait(false);
        var sealedChunk = _cipher!;
        _pendingWrite = _inner.WriteAsync(sealedChunk.AsMemory(0, length), cancellationToken).AsTask();
        (_cipher, _spareCipher) = (_spareCipher, _cipher);
    }

    // Flushing the inner stream never seals a partial chunk: chunk boundaries are fixed by the format.
    public override void Flush()
    {
        _pendingWrite.GetAwaiter().GetResult();
        _inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _pendingWrite.ConfigureAwait(false);
        await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private int Seal(bool final)
    {
        if (_counter == uint.MaxValue)
        {
            throw new InvalidOperationException("The artifact exceeds the chunk counter range; use a larger chunk size.");
        }

        Span<byte> nonce = stackalloc byte[EnvelopeFormat.NonceSize];
        ChunkNonce.Write(_noncePrefix, _counter, final, nonce);
        var plain = _plain.AsSpan(0, _filled);
        var cipher = _cipher.AsSpan(0, _filled + EnvelopeFormat.TagSize);
        _aes.Encrypt(nonce, plain, cipher[.._filled], cipher[_filled..], _associatedData);
        _ciphertextHash?.AppendData(cipher);
        _counter++;
        _filled = 0;
        BytesWritten += cipher.Length;
        return cipher.Length;
    }

    private void EnsureWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed)
        {
            throw new InvalidOperationException("The envelope is already complete.");
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            WaitForPendingWrite();
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
            try
            {
                await _pendingWrite.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
            {
                // The write failed or was cancelled; the artifact is abandoned anyway.
            }

            _aes.Dispose();
            ReturnBuffers();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    // A buffer must never go back to the pool while a write still reads from it.
    private void WaitForPendingWrite()
    {
        try
        {
            _pendingWrite.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or NotSupportedException)
        {
            // The write failed or was cancelled; the artifact is abandoned anyway.
        }
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

        if (_spareCipher is not null)
        {
            ArrayPool<byte>.Shared.Return(_spareCipher);
            _spareCipher = null;
        }
    }
}
