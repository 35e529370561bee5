using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using EtcdServerless.Core.Keys;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// The envelope header (format version 1, or 2 with the artifact's identity): everything a reader needs before
/// the body, authenticated as the associated data of every chunk (as its SHA-256) and, up to the wrapped key, of
/// the key wrap itself. In version 2 the identity (<c>{cluster}/{backupId}</c>, the id carrying the revision) is
/// part of that authenticated data, so an artifact cannot be presented under another backup's name.
/// </summary>
internal sealed class EnvelopeHeader
{
    private readonly byte[] _bytes;

    private EnvelopeHeader(byte[] bytes, ushort version, EnvelopeCompression compression, int chunkSize, string keyId, string keyVersion, string? identity, int wrapOffset)
    {
        Identity = identity;
        _bytes = bytes;
        FormatVersion = version;
        Compression = compression;
        ChunkSize = chunkSize;
        KeyId = keyId;
        KeyVersion = keyVersion;
        WrapOffset = wrapOffset;
        ChunkAssociatedData = SHA256.HashData(bytes);
    }

    public ushort FormatVersion { get; }

    public EnvelopeCompression Compression { get; }

    public int ChunkSize { get; }

    /// <summary>The KEK id the DEK is wrapped with.</summary>
    public string KeyId { get; }

    /// <summary>The KEK version the DEK is wrapped with.</summary>
    public string KeyVersion { get; }

    /// <summary>The artifact's identity (<c>{cluster}/{backupId}</c>) in a version 2 header; null in version 1.</summary>
    public string? Identity { get; }

    /// <summary>The serialized header.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    public int Length => _bytes.Length;

    /// <summary>SHA-256 of the whole header: the AAD of every body chunk.</summary>
    public byte[] ChunkAssociatedData { get; }

    public ReadOnlySpan<byte> NoncePrefix => _bytes.AsSpan(20, EnvelopeFormat.NoncePrefixSize);

    private ReadOnlySpan<byte> KeyCheck => _bytes.AsSpan(27, EnvelopeFormat.KeyCheckSize);

    private int WrapOffset { get; }

    /// <summary>Creates a header for a fresh random DEK wrapped under <paramref name="kek"/>; the DEK goes to <paramref name="dataKey"/>.</summary>
    /// <remarks>With <paramref name="identity"/> the header is version 2 and binds it; without, version 1.</remarks>
    public static EnvelopeHeader Create(KeyEncryptionKey kek, EnvelopeOptions options, Span<byte> dataKey, string? identity = null)
    {
        ArgumentNullException.ThrowIfNull(kek);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var keyId = Encoding.UTF8.GetBytes(kek.KeyId);
        var keyVersion = Encoding.UTF8.GetBytes(kek.Version);
        if (keyId.Length > 255 || keyVersion.Length > 255)
        {
            throw new ArgumentException("KEK id and version must each be at most 255 UTF-8 bytes.", nameof(kek));
        }

        var identityBytes = identity is null ? null : Encoding.UTF8.GetBytes(identity);
        if (identityBytes is { Length: 0 or > 255 })
        {
            throw new ArgumentException("The identity must be 1-255 UTF-8 bytes.", nameof(identity));
        }

        var version = identityBytes is null ? EnvelopeFormat.UnboundVersion : EnvelopeFormat.IdentityVersion;
        var length = EnvelopeFormat.FixedPrefixSize + 1 + keyId.Length + 1 + keyVersion.Length
            + (identityBytes is null ? 0 : 1 + identityBytes.Length) + EnvelopeFormat.WrappedKeySize;
        var bytes = new byte[length];
        var span = bytes.AsSpan();
        EnvelopeFormat.Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], version);
        BinaryPrimitives.WriteUInt16BigEndian(span[10..], (ushort)length);
        span[12] = EnvelopeFormat.CipherAes256GcmChunked;
        span[13] = (byte)options.Compression;
        span[14] = EnvelopeFormat.KeyWrapAes256Gcm;
        span[15] = 0;
        BinaryPrimitives.WriteInt32BigEndian(span[16..], options.ChunkSize);
        RandomNumberGenerator.Fill(span.Slice(20, EnvelopeFormat.NoncePrefixSize));
        ComputeKeyCheck(kek.Material, span.Slice(27, EnvelopeFormat.KeyCheckSize));
        var offset = EnvelopeFormat.FixedPrefixSize;
        span[offset++] = (byte)keyId.Length;
        keyId.CopyTo(span[offset..]);
        offset += keyId.Length;
        span[offset++] = (byte)keyVersion.Length;
        keyVersion.CopyTo(span[offset..]);
        offset += keyVersion.Length;
        if (identityBytes is not null)
        {
            span[offset++] = (byte)identityBytes.Length;
            identityBytes.CopyTo(span[offset..]);
            offset += identityBytes.Length;
        }

        var wrapOffset = offset;
        var wrapNonce = span.Slice(wrapOffset, EnvelopeFormat.NonceSize);
        var wrapped = span.Slice(wrapOffset + EnvelopeFormat.NonceSize, EnvelopeFormat.DataKeySize);
        var tag = span.Slice(wrapOffset + EnvelopeFormat.NonceSize + EnvelopeFormat.DataKeySize, EnvelopeFormat.TagSize);
        RandomNumberGenerator.Fill(wrapNonce);
        RandomNumberGenerator.Fill(dataKey[..EnvelopeFormat.DataKeySize]);
        using (var aes = new AesGcm(kek.Material, EnvelopeFormat.TagSize))
        {
            aes.Encrypt(wrapNonce, dataKey[..EnvelopeFormat.DataKeySize], wrapped, tag, span[..wrapOffset]);
        }

        return new EnvelopeHeader(bytes, version, options.Compression, options.ChunkSize, kek.KeyId, kek.Version, identity, wrapOffset);
    }

    /// <summary>Reads and validates the structure of a header (not its authenticity: that needs the KEK).</summary>
    public static async Task<EnvelopeHeader> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var start = new byte[12];
        await ReadExactlyOrThrowAsync(stream, start, cancellationToken).ConfigureAwait(false);
        if (!start.AsSpan(0, 8).SequenceEqual(EnvelopeFormat.Magic))
        {
            throw new EnvelopeFormatException("not an etcd-backup envelope (bad magic)");
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(start.AsSpan(8));
        if (version is not (EnvelopeFormat.UnboundVersion or EnvelopeFormat.IdentityVersion))
        {
            throw new EnvelopeFormatException(
                $"unsupported envelope format version {version} (this build reads versions {EnvelopeFormat.UnboundVersion} and {EnvelopeFormat.IdentityVersion})");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(start.AsSpan(10));
        if (length is < EnvelopeFormat.MinHeaderSize or > EnvelopeFormat.MaxHeaderSize)
        {
            throw new EnvelopeFormatException($"envelope header length {length} is out of range");
        }

        var bytes = new byte[length];
        start.CopyTo(bytes, 0);
        await ReadExactlyOrThrowAsync(stream, bytes.AsMemory(12), cancellationToken).ConfigureAwait(false);
        return Parse(bytes, version);
    }

    private static EnvelopeHeader Parse(byte[] bytes, ushort version)
    {
        var span = bytes.AsSpan();
        if (span[12] != EnvelopeFormat.CipherAes256GcmChunked)
        {
            throw new EnvelopeFormatException($"unknown envelope cipher id {span[12]}");
        }

        var compression = (EnvelopeCompression)span[13];
        if (!Enum.IsDefined(compression))
        {
            throw new EnvelopeFormatException($"unknown envelope compression id {span[13]}");
        }

        if (span[14] != EnvelopeFormat.KeyWrapAes256Gcm || span[15] != 0)
        {
            throw new EnvelopeFormatException($"unknown envelope key-wrap id {span[14]}/{span[15]}");
        }

        var chunkSize = BinaryPrimitives.ReadInt32BigEndian(span[16..]);
        if (chunkSize is < EnvelopeFormat.MinChunkSize or > EnvelopeFormat.MaxChunkSize)
        {
            throw new EnvelopeFormatException($"envelope chunk size {chunkSize} is out of range");
        }

        var offset = EnvelopeFormat.FixedPrefixSize;
        var keyId = ReadString(span, ref offset, "KEK id");
        var keyVersion = ReadString(span, ref offset, "KEK version");
        var identity = version >= EnvelopeFormat.IdentityVersion ? ReadString(span, ref offset, "identity") : null;
        if (offset + EnvelopeFormat.WrappedKeySize != bytes.Length)
        {
            throw new EnvelopeFormatException("envelope header length does not match its fields");
        }

        return new EnvelopeHeader(bytes, version, compression, chunkSize, keyId, keyVersion, identity, offset);
    }

    private static string ReadString(ReadOnlySpan<byte> span, ref int offset, string what)
    {
        int length = span[offset++];
        if (length == 0 || offset + length > span.Length)
        {
            throw new EnvelopeFormatException($"envelope header has a malformed {what}");
        }

        try
        {
            var value = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(span.Slice(offset, length));
            offset += length;
            return value;
        }
        catch (DecoderFallbackException ex)
        {
            throw new EnvelopeFormatException($"envelope header has a malformed {what}", ex);
        }
    }

    /// <summary>Recovers the DEK. Throws <see cref="EnvelopeWrongKeyException"/> or <see cref="EnvelopeHeaderTamperedException"/>.</summary>
    public void UnwrapDataKey(KeyEncryptionKey kek, Span<byte> dataKey)
    {
        ArgumentNullException.ThrowIfNull(kek);
        Span<byte> check = stackalloc byte[EnvelopeFormat.KeyCheckSize];
        ComputeKeyCheck(kek.Material, check);
        if (!CryptographicOperations.FixedTimeEquals(check, KeyCheck))
        {
            throw new EnvelopeWrongKeyException(
                $"wrong key-encryption key: the artifact was sealed with {KeyId}/{KeyVersion} and key {kek} does not match it");
        }

        var span = _bytes.AsSpan();
        var wrapNonce = span.Slice(WrapOffset, EnvelopeFormat.NonceSize);
        var wrapped = span.Slice(WrapOffset + EnvelopeFormat.NonceSize, EnvelopeFormat.DataKeySize);
        var tag = span.Slice(WrapOffset + EnvelopeFormat.NonceSize + EnvelopeFormat.DataKeySize, EnvelopeFormat.TagSize);
        try
        {
            using var aes = new AesGcm(kek.Material, EnvelopeFormat.TagSize);
            aes.Decrypt(wrapNonce, wrapped, tag, dataKey[..EnvelopeFormat.DataKeySize], span[..WrapOffset]);
        }
        catch (CryptographicException ex)
        {
            throw new EnvelopeHeaderTamperedException("envelope header tampered: the wrapped data key does not authenticate", ex);
        }
    }

    private static void ComputeKeyCheck(ReadOnlySpan<byte> kek, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(kek, EnvelopeFormat.KeyCheckContext, mac);
        mac[..EnvelopeFormat.KeyCheckSize].CopyTo(destination);
    }

    private static async Task ReadExactlyOrThrowAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new EnvelopeFormatException("envelope header truncated", ex);
        }
    }
}
