
namespace EtcdServerless.Etcd.Inspection;

/// <summary>
/// Reads the user key (field 1) out of an <c>mvccpb.KeyValue</c> protobuf without materializing the
/// message, checking the wire structure the way a full unmarshal would.
/// </summary>
internal static class KeyValueReader
{
    public static ReadOnlySpan<byte> ReadKey(ReadOnlySpan<byte> message)
    {
        ReadOnlySpan<byte> key = [];
        var offset = 0;
        while (offset < message.Length)
        {
            var tag = ReadVarint(message, ref offset);
            var field = tag >> 3;
            var wireType = (int)(tag & 7);
            if (field == 0)
            {
                throw Malformed("field number 0");
            }

            // KeyValue: key=1 bytes, create/mod revision, version, lease = varints, value=5 bytes.
            var expected = field switch
            {
                1 or 5 => 2,
                2 or 3 or 4 or 6 => 0,
                _ => -1,
            };
            if (expected >= 0 && wireType != expected)
            {
                throw Malformed($"field {field} has wire type {wireType}");
            }

            switch (wireType)
            {
                case 0:
                    ReadVarint(message, ref offset);
                    break;
                case 1:
                    offset = Skip(message, offset, 8);
                    break;
                case 2:
                    var length = ReadVarint(message, ref offset);
                    if (length > (ulong)(message.Length - offset))
                    {
                        throw Malformed($"field {field} length {length} runs past the message");
                    }

                    if (field == 1)
                    {
                        key = message.Slice(offset, (int)length);
                    }

                    offset += (int)length;
                    break;
                case 5:
                    offset = Skip(message, offset, 4);
                    break;
                default:
                    throw Malformed($"unsupported wire type {wireType}");
            }
        }

        return key;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> message, ref int offset)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (offset >= message.Length)
            {
                throw Malformed("truncated varint");
            }

            var b = message[offset++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw Malformed("varint longer than 10 bytes");
    }

    private static int Skip(ReadOnlySpan<byte> message, int offset, int count) =>
        message.Length - offset >= count ? offset + count : throw Malformed("truncated fixed-size field");

    private static InvalidDataException Malformed(string what) =>
        new($"bucket 'key': value is not a valid mvccpb.KeyValue ({what})");

}
