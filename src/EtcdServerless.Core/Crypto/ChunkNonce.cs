using System.Buffers.Binary;

namespace EtcdServerless.Core.Crypto;

/// <summary>Builds the 96-bit per-chunk nonce: 7-byte random prefix || 32-bit big-endian counter || final flag.</summary>
internal static class ChunkNonce
{
    public static void Write(ReadOnlySpan<byte> prefix, uint counter, bool final, Span<byte> nonce)
    {
        prefix.CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[EnvelopeFormat.NoncePrefixSize..], counter);
        nonce[EnvelopeFormat.NonceSize - 1] = final ? (byte)1 : (byte)0;
    }
}
