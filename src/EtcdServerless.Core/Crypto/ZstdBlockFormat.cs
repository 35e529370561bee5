using System.Buffers.Binary;
using System.IO.Compression;

namespace EtcdServerless.Core.Crypto;

/// <summary>
/// Layout of the plaintext of a compression-id-3 envelope (docs/format.md, "Block-compressed zstd"): a sequence
/// of blocks, each a 9-byte header (kind, plaintext length, payload length, big-endian) and its payload. Each
/// block stands alone, so a block that does not shrink is stored as is and costs no decompression, and a
/// reader needs at most one block of each kind in memory.
/// </summary>
internal static class ZstdBlockFormat
{
    public const int HeaderSize = 9;

    /// <summary>Kind 0: the payload is the plaintext itself.</summary>
    public const byte Stored = 0;

    /// <summary>Kind 1: the payload is one zstd frame (RFC 8878) that decompresses to exactly the plaintext length.</summary>
    public const byte Zstd = 1;

    /// <summary>A block larger than this is refused by the reader, which buffers one whole block.</summary>
    public const int MaxBlockSize = EnvelopeFormat.MaxChunkSize;

    /// <summary>
    /// zstd level for <see cref="CompressionLevel.Fastest"/>, the default. Picked by <c>bench seal</c> (docs/benchmarks.md):
    /// on Kubernetes-like data about the size of Brotli's fastest at well under half its CPU time.
    /// </summary>
    public const int FastestLevel = -1;

    /// <summary>A block is stored as is unless compression saves more than 1/this of it.</summary>
    public const int MinSavingDivisor = 32;

    /// <summary>After a stored block, this much of the next is compressed first, to skip incompressible data cheaply.</summary>
    public const int ProbeSize = 64 * 1024;

    public static int LevelFor(CompressionLevel level) => level switch
    {
        CompressionLevel.Optimal => 3,
        CompressionLevel.SmallestSize => 19,
        _ => FastestLevel,
    };

    public static void WriteHeader(Span<byte> destination, byte kind, int plainLength, int payloadLength)
    {
        destination[0] = kind;
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], plainLength);
        BinaryPrimitives.WriteInt32BigEndian(destination[5..], payloadLength);
    }

    /// <summary>Parses and bounds-checks a block header; malformed values are <see cref="InvalidDataException"/>.</summary>
    public static (byte Kind, int PlainLength, int PayloadLength) ReadHeader(ReadOnlySpan<byte> header)
    {
        var kind = header[0];
        var plain = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        var payload = BinaryPrimitives.ReadInt32BigEndian(header[5..]);
        if (plain is <= 0 or > MaxBlockSize)
        {
            throw new InvalidDataException($"block plaintext length {plain} out of range");
        }

        var valid = kind switch
        {
            Stored => payload == plain,
            Zstd => payload > 0 && payload < plain,
            _ => throw new InvalidDataException($"unknown block kind {kind}"),
        };
        return valid ? (kind, plain, payload) : throw new InvalidDataException($"block payload length {payload} invalid for kind {kind} of {plain} bytes");
    }
}
