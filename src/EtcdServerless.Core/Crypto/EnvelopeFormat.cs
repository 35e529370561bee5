namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Constants of the sealed-artifact envelope, format version 1. The byte layout is documented in
/// <c>docs/format.md</c>; changing anything here is a new format version.
/// </summary>
internal static class EnvelopeFormat
{
    /// <summary>File signature: 0x89 "ESLENV" LF. The high byte and the LF catch 7-bit and newline-mangling transfers.</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'E', (byte)'S', (byte)'L', (byte)'E', (byte)'N', (byte)'V', 0x0A];

    /// <summary>Version 1: no identity in the header (backups written before identity binding; still read).</summary>
    public const ushort UnboundVersion = 1;

    /// <summary>Version 2: version 1 plus the artifact's identity (cluster/backup id) in the authenticated header.</summary>
    public const ushort IdentityVersion = 2;

    /// <summary>The version written when no identity is given (identity-bound artifacts are <see cref="IdentityVersion"/>).</summary>
    public const ushort CurrentVersion = UnboundVersion;

    /// <summary>Cipher id 1: AES-256-GCM over fixed-size chunks, 96-bit nonce = prefix || counter || final flag.</summary>
    public const byte CipherAes256GcmChunked = 1;

    /// <summary>Key-wrap id 1: the DEK is sealed with AES-256-GCM under the KEK, with its own random nonce.</summary>
    public const byte KeyWrapAes256Gcm = 1;

    public const int TagSize = 16;
    public const int NonceSize = 12;
    public const int NoncePrefixSize = 7;
    public const int DataKeySize = 32;
    public const int KeyCheckSize = 8;

    /// <summary>Size of the fixed part before the variable-length key id.</summary>
    public const int FixedPrefixSize = 35;

    /// <summary>Wrap nonce + wrapped DEK + wrap tag.</summary>
    public const int WrappedKeySize = NonceSize + DataKeySize + TagSize;

    public const int MinHeaderSize = FixedPrefixSize + 1 + 1 + 1 + 1 + WrappedKeySize;
    public const int MaxHeaderSize = FixedPrefixSize + 1 + 255 + 1 + 255 + 1 + 255 + WrappedKeySize;

    /// <summary>Smallest chunk: below this the 16-byte tag per chunk becomes noticeable overhead.</summary>
    public const int MinChunkSize = 4 * 1024;

    /// <summary>Largest chunk: the reader buffers one whole chunk before releasing it, so this bounds its memory.</summary>
    public const int MaxChunkSize = 16 * 1024 * 1024;

    /// <summary>1 MiB: tag overhead 0.0015 %, AES-GCM call overhead negligible, ~2 MiB of buffers per stream.</summary>
    public const int DefaultChunkSize = 1024 * 1024;

    /// <summary>Context string for the KEK check value (HMAC-SHA256 of this under the KEK, first 8 bytes).</summary>
    public static ReadOnlySpan<byte> KeyCheckContext => "etcd-backup envelope v1 key check"u8;
}

/// <summary>Compression applied to the plaintext before encryption, as recorded in the envelope header.</summary>
internal enum EnvelopeCompression : byte
{
    /// <summary>Stored as is.</summary>
    None = 0,

    /// <summary>RFC 1952 gzip (System.IO.Compression.GZipStream).</summary>
    Gzip = 1,

    /// <summary>RFC 7932 Brotli (System.IO.Compression.BrotliStream).</summary>
    Brotli = 2,

    /// <summary>Independent zstd blocks (RFC 8878), each stored as is when it does not shrink (<see cref="ZstdBlockFormat"/>).</summary>
    Zstd = 3,
}
