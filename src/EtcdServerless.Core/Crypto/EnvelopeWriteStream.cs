using System.IO.Compression;
using System.Security.Cryptography;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.IO;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Seals what is written to it (optionally compressed, then encrypted in chunks) into an inner stream.
/// Call <see cref="CompleteAsync"/> to write the final chunk; disposing without it leaves an artifact that
/// every reader rejects as truncated. Memory is bounded by a few chunk buffers plus the compressor's window (zstd: two plaintext blocks and one output block).
/// </summary>
internal sealed class EnvelopeWriteStream : ForwardOnlyWriteStream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly ChunkSealingStream _sealer;
    private readonly IncrementalHash? _ciphertextHash;
    private Stream? _compressor;
    private bool _completed;
    private bool _disposed;

    private EnvelopeWriteStream(Stream inner, bool leaveOpen, EnvelopeHeader header, ChunkSealingStream sealer, Stream? compressor, IncrementalHash? hash)
    {
        _inner = inner;
        _leaveOpen = leaveOpen;
        Header = header;
        _sealer = sealer;
        _compressor = compressor;
        _ciphertextHash = hash;
    }

    /// <summary>The header written at the start of the artifact.</summary>
    public EnvelopeHeader Header { get; }

    /// <summary>Plaintext bytes written so far.</summary>
    public long PlaintextLength { get; private set; }

    /// <summary>Artifact bytes (header + sealed chunks) written to the inner stream so far.</summary>
    public long ArtifactLength => Header.Length + _sealer.BytesWritten;

    /// <summary>SHA-256 of the whole artifact as written (header + ciphertext); set by <see cref="CompleteAsync"/> when enabled in the options.</summary>
    public byte[]? ArtifactSha256 { get; private set; }

    /// <summary>Writes the header to <paramref name="inner"/> and returns the stream to write plaintext to.</summary>
    public static Task<EnvelopeWriteStream> CreateAsync(
        Stream inner, KeyEncryptionKey kek, EnvelopeOptions? options = null, bool leaveOpen = false, CancellationToken cancellationToken = default) =>
        CreateAsync(inner, kek, options, identity: null, leaveOpen, cancellationToken);

    /// <summary>
    /// As <see cref="CreateAsync(Stream, KeyEncryptionKey, EnvelopeOptions?, bool, CancellationToken)"/>, binding
    /// <paramref name="identity"/> (<c>{cluster}/{backupId}</c>) into the authenticated header (format version 2).
    /// </summary>
    public static async Task<EnvelopeWriteStream> CreateAsync(
        Stream inner, KeyEncryptionKey kek, EnvelopeOptions? options, string? identity, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(kek);
        options ??= EnvelopeOptions.Default;
        Span<byte> dataKey = stackalloc byte[EnvelopeFormat.DataKeySize];
        EnvelopeHeader header;
        ChunkSealingStream sealer;
        var hash = options.ComputeArtifactSha256 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        try
        {
            header = EnvelopeHeader.Create(kek, options, dataKey, identity);
            hash?.AppendData(header.Bytes);
            sealer = new ChunkSealingStream(inner, header, dataKey, hash, leaveOpen: true);
        }
        catch
        {
            hash?.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }

        try
        {
            await inner.WriteAsync(header.Bytes.ToArray(), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await sealer.DisposeAsync().ConfigureAwait(false);
            hash?.Dispose();
            throw;
        }

        Stream? compressor = options.Compression switch
        {
            EnvelopeCompression.Gzip => new GZipStream(sealer, options.CompressionLevel, leaveOpen: true),
            EnvelopeCompression.Brotli => new BrotliStream(sealer, options.CompressionLevel, leaveOpen: true),
            EnvelopeCompression.Zstd => new ZstdBlockWriteStream(sealer, options.ChunkSize, ZstdBlockFormat.LevelFor(options.CompressionLevel)),
            _ => null,
        };
        return new EnvelopeWriteStream(inner, leaveOpen, header, sealer, compressor, hash);
    }

    public override bool CanWrite => !_disposed && !_completed;

    private Stream Target
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_completed)
            {
                throw new InvalidOperationException("The envelope is already complete.");
            }

            return _compressor ?? _sealer;
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Target.Write(buffer);
        PlaintextLength += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Target.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        PlaintextLength += buffer.Length;
    }

    /// <summary>Finishes compression, writes the final chunk and flushes. The artifact is valid only after this.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        _ = Target;
        if (_compressor is ZstdBlockWriteStream blocks)
        {
            await blocks.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_compressor is not null)
        {
            // Disposing a stream compressor writes its end-of-stream block into the sealer (leaveOpen: true).
            await _compressor.DisposeAsync().ConfigureAwait(false);
            _compressor = null;
        }

        await _sealer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        ArtifactSha256 = _ciphertextHash?.GetHashAndReset();
        _completed = true;
    }

    // Flush never seals a partial chunk; it only pushes whole chunks already sealed.
    public override void Flush() => _sealer.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _sealer.FlushAsync(cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            DisposeCompressorWithoutCompleting();
            _sealer.Dispose();
            _ciphertextHash?.Dispose();
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
            DisposeCompressorWithoutCompleting();
            await _sealer.DisposeAsync().ConfigureAwait(false);
            _ciphertextHash?.Dispose();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync().ConfigureAwait(false);
            }
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    private void DisposeCompressorWithoutCompleting()
    {
        // The compressor flushes into the sealer on dispose; the sealer is then disposed without its final
        // chunk, so whatever it buffered is dropped and the artifact stays invalid (truncated).
        if (_compressor is not null)
        {
            try
            {
                _compressor.Dispose();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // Abandoned anyway.
            }

            _compressor = null;
        }
    }
}
