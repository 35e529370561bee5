using EtcdServerless.Core.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using EtcdServerless.Core.Keys;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Opens a sealed artifact and yields its plaintext. Each chunk is authenticated before any of its bytes are
/// released; the end of the plaintext is reported only after the final chunk authenticated, so a reader that
/// reaches end-of-stream has read the complete, unmodified artifact.
/// </summary>
internal sealed class EnvelopeReadStream : ForwardOnlyReadStream
{
    private readonly ChunkOpeningStream _opener;
    private readonly Stream? _decompressor;
    private bool _ended;
    private bool _disposed;

    private EnvelopeReadStream(EnvelopeHeader header, ChunkOpeningStream opener, Stream? decompressor)
    {
        Header = header;
        _opener = opener;
        _decompressor = decompressor;
    }

    /// <summary>The artifact's header (compression, chunk size, KEK id and version).</summary>
    public EnvelopeHeader Header { get; }

    /// <summary>Reads the header, fetches its KEK version from <paramref name="keys"/> and returns the plaintext stream.</summary>
    public static async Task<EnvelopeReadStream> OpenAsync(Stream inner, IKeyStore keys, bool leaveOpen = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return await OpenAsync(
            inner,
            async (keyId, version, ct) =>
            {
                try
                {
                    return await keys.GetAsync(keyId, version, ct).ConfigureAwait(false);
                }
                catch (KeyNotFoundException ex)
                {
                    throw new EnvelopeKeyNotFoundException(
                        $"KEK version {keyId}/{version} not found in {keys.Description} (the artifact needs it; restore that key version)", ex);
                }
            },
            leaveOpen,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the header and opens the body with the KEK returned by <paramref name="resolveKey"/> (which this method disposes).</summary>
    public static async Task<EnvelopeReadStream> OpenAsync(
        Stream inner,
        Func<string, string, CancellationToken, Task<KeyEncryptionKey>> resolveKey,
        bool leaveOpen = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(resolveKey);
        try
        {
            return await OpenCoreAsync(inner, resolveKey, leaveOpen, cancellationToken).ConfigureAwait(false);
        }
        catch when (!leaveOpen)
        {
            // The caller handed the stream over; it must not leak when the artifact cannot be opened.
            await inner.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<EnvelopeReadStream> OpenCoreAsync(
        Stream inner, Func<string, string, CancellationToken, Task<KeyEncryptionKey>> resolveKey, bool leaveOpen, CancellationToken cancellationToken)
    {
        var header = await EnvelopeHeader.ReadAsync(inner, cancellationToken).ConfigureAwait(false);
        using var kek = await resolveKey(header.KeyId, header.KeyVersion, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(kek.KeyId, header.KeyId, StringComparison.Ordinal) || !string.Equals(kek.Version, header.KeyVersion, StringComparison.Ordinal))
        {
            throw new EnvelopeWrongKeyException($"wrong key-encryption key: the artifact needs {header.KeyId}/{header.KeyVersion}, got {kek}");
        }

        var dataKey = new byte[EnvelopeFormat.DataKeySize];
        try
        {
            header.UnwrapDataKey(kek, dataKey);
            var opener = new ChunkOpeningStream(inner, header, dataKey, leaveOpen);
            Stream? decompressor = header.Compression switch
            {
                EnvelopeCompression.Gzip => new GZipStream(opener, CompressionMode.Decompress, leaveOpen: true),
                EnvelopeCompression.Brotli => new BrotliStream(opener, CompressionMode.Decompress, leaveOpen: true),
                EnvelopeCompression.Zstd => new ZstdBlockReadStream(opener),
                _ => null,
            };
            return new EnvelopeReadStream(header, opener, decompressor);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    public override bool CanRead => !_disposed;

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        int read;
        try
        {
            read = (_decompressor ?? _opener).Read(buffer);
        }
        catch (InvalidDataException ex)
        {
            throw CorruptCompression(ex);
        }

        if (read == 0)
        {
            EnsureBodyEnded(_opener.Read(new byte[1]));
        }

        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty || _ended)
        {
            return 0;
        }

        int read;
        try
        {
            read = await (_decompressor ?? _opener).ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw CorruptCompression(ex);
        }

        if (read == 0)
        {
            EnsureBodyEnded(await _opener.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false));
        }

        return read;
    }

    // When the decompressor reports its end, the body must end too, with an authenticated final chunk.
    private void EnsureBodyEnded(int extra)
    {
        if (extra != 0 || !_opener.IsComplete)
        {
            throw new EnvelopeFormatException("the compressed stream ended before the artifact's final chunk");
        }

        _ended = true;
    }

    // Authenticated but undecompressable plaintext means the writer was broken, not an attacker.
    private static EnvelopeFormatException CorruptCompression(InvalidDataException ex) =>
        new("the authenticated plaintext is not a valid compressed stream", ex);

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _decompressor?.Dispose();
            _opener.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_decompressor is not null)
            {
                await _decompressor.DisposeAsync().ConfigureAwait(false);
            }

            await _opener.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }
}
