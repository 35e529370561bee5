using Google.Protobuf;

namespace EtcdServerless.Etcd.Keyspace;

/// <summary>
/// One decoded <c>mvccpb.KeyValue</c> (api/mvccpb/kv.proto: key=1 bytes, create_revision=2, mod_revision=3,
/// version=4 int64, value=5 bytes, lease=6 int64). Key and value are slices of the caller's scratch buffer,
/// valid until it is reused.
/// </summary>
internal readonly ref struct KeyValueRecord
{
    public KeyValueRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long createRevision, long modRevision, long version, long lease)
    {
        Key = key;
        Value = value;
        CreateRevision = createRevision;
        ModRevision = modRevision;
        Version = version;
        Lease = lease;
    }

    public ReadOnlySpan<byte> Key { get; }

    public ReadOnlySpan<byte> Value { get; }

    public long CreateRevision { get; }

    public long ModRevision { get; }

    public long Version { get; }

    public long Lease { get; }
}

/// <summary>Decodes <see cref="KeyValueRecord"/>s with Google.Protobuf's wire reader, without copying values out.</summary>
internal sealed class KeyValueDecoder
{
    private byte[] _scratch = new byte[4096];

    /// <summary>
    /// Decodes <paramref name="message"/>. Unknown fields are skipped (proto3 rules); a known field with the wrong
    /// wire type or a truncated message is <see cref="InvalidDataException"/> naming <paramref name="revision"/>.
    /// </summary>
    public KeyValueRecord Decode(ReadOnlySpan<byte> message, RevisionKey revision)
    {
        // CodedInputStream reads arrays; the page span is copied once into a reusable buffer.
        if (_scratch.Length < message.Length)
        {
            _scratch = new byte[Math.Max(message.Length, _scratch.Length * 2)];
        }

        message.CopyTo(_scratch);
        var buffer = _scratch;
        int keyStart = 0, keyLength = 0, valueStart = 0, valueLength = 0;
        long create = 0, mod = 0, version = 0, lease = 0;
        try
        {
            var input = new CodedInputStream(buffer, 0, message.Length);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                var field = WireFormat.GetTagFieldNumber(tag);
                var wireType = WireFormat.GetTagWireType(tag);
                switch (field)
                {
                    case 1 or 5:
                        Expect(wireType, WireFormat.WireType.LengthDelimited, field);
                        var (start, length) = ReadBytesLocation(input);
                        if (field == 1)
                        {
                            (keyStart, keyLength) = (start, length);
                        }
                        else
                        {
                            (valueStart, valueLength) = (start, length);
                        }

                        break;
                    case 2 or 3 or 4 or 6:
                        Expect(wireType, WireFormat.WireType.Varint, field);
                        var number = input.ReadInt64();
                        _ = field switch
                        {
                            2 => create = number,
                            3 => mod = number,
                            4 => version = number,
                            _ => lease = number,
                        };
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"bucket 'key': revision {revision}: value is not a valid mvccpb.KeyValue ({ex.Message})", ex);
        }

        return new KeyValueRecord(buffer.AsSpan(keyStart, keyLength), buffer.AsSpan(valueStart, valueLength), create, mod, version, lease);

        void Expect(WireFormat.WireType actual, WireFormat.WireType expected, int field)
        {
            if (actual != expected)
            {
                throw new InvalidDataException($"bucket 'key': revision {revision}: mvccpb.KeyValue field {field} has wire type {actual}, expected {expected}");
            }
        }
    }

    // The library skips a length-delimited field without handing out its offset; the skipped span is the
    // length varint followed by the bytes, so the length is the one n with n + varint size of n = span.
    private static (int Start, int Length) ReadBytesLocation(CodedInputStream input)
    {
        var before = (int)input.Position;
        input.SkipLastField();
        var after = (int)input.Position;
        var span = after - before;
        for (var prefix = 1; prefix <= 5 && prefix <= span; prefix++)
        {
            var length = span - prefix;
            if (CodedOutputStream.ComputeLengthSize(length) == prefix)
            {
                return (before + prefix, length);
            }
        }

        throw new InvalidDataException("bucket 'key': mvccpb.KeyValue has a length-delimited field of inconsistent size");
    }
}
