using System.Text;

namespace EtcdServerless.Etcd.Client;

/// <summary>
/// Decodes a <c>SnapshotResponse</c> without copying the blob: the hot path of a multi-GB snapshot is one
/// 32 KiB message per chunk, and the generated parser would allocate a ByteString for each.
/// Fields: remaining_bytes = 2 (varint), blob = 3 (bytes), version = 4 (string); others are skipped.
/// </summary>
internal static class SnapshotChunkParser
{
    public static EtcdSnapshotChunk Parse(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        var position = 0;
        ulong remaining = 0;
        var blob = ReadOnlyMemory<byte>.Empty;
        var version = "";
        while (position < span.Length)
        {
            var tag = ReadVarint(span, ref position);
            var field = tag >> 3;
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    var number = ReadVarint(span, ref position);
                    if (field == 2)
                    {
                        remaining = number;
                    }

                    break;
                case 1:
                    Skip(span, ref position, 8);
                    break;
                case 5:
                    Skip(span, ref position, 4);
                    break;
                case 2:
                    var length = ReadVarint(span, ref position);
                    if (length > (ulong)(span.Length - position))
                    {
                        throw new InvalidDataException("SnapshotResponse field runs past the end of the message.");
                    }

                    var start = position;
                    position += (int)length;
                    if (field == 3)
                    {
                        blob = message.Slice(start, (int)length);
                    }
                    else if (field == 4)
                    {
                        version = Encoding.UTF8.GetString(span.Slice(start, (int)length));
                    }

                    break;
                default:
                    throw new InvalidDataException($"SnapshotResponse has unsupported wire type {wireType}.");
            }
        }

        return new EtcdSnapshotChunk(blob, remaining, version);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= span.Length)
            {
                throw new InvalidDataException("SnapshotResponse varint runs past the end of the message.");
            }

            var b = span[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("SnapshotResponse varint is longer than 10 bytes.");
    }

    private static void Skip(ReadOnlySpan<byte> span, ref int position, int count)
    {
        if (span.Length - position < count)
        {
            throw new InvalidDataException("SnapshotResponse field runs past the end of the message.");
        }

        position += count;
    }
}
