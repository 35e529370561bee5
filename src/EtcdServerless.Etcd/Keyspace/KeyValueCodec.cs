using EtcdServerless.Etcd.Client;
using Google.Protobuf;

namespace EtcdServerless.Etcd.Keyspace;

/// <summary>
/// A key-value as etcd's own <c>mvccpb.KeyValue</c> protobuf message (key, create/mod revision, version, value,
/// lease): the encoding delta segments store events in, so a record reads back with etcd's field meanings.
/// </summary>
internal static class KeyValueCodec
{
    /// <summary>The message's bytes.</summary>
    public static byte[] Encode(EtcdKeyValue kv)
    {
        ArgumentNullException.ThrowIfNull(kv);
        return new Mvccpb.KeyValue
        {
            // Wrapped, not copied: the message lives only for this call.
            Key = UnsafeByteOperations.UnsafeWrap(kv.Key),
            Value = UnsafeByteOperations.UnsafeWrap(kv.Value),
            CreateRevision = kv.CreateRevision,
            ModRevision = kv.ModRevision,
            Version = kv.Version,
            Lease = kv.Lease,
        }.ToByteArray();
    }

    /// <summary>Parses the message. <see cref="InvalidDataException"/> when the bytes are not one.</summary>
    public static EtcdKeyValue Decode(ReadOnlySpan<byte> bytes)
    {
        Mvccpb.KeyValue kv;
        try
        {
            kv = Mvccpb.KeyValue.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"not an etcd key-value message: {ex.Message}", ex);
        }

        return new EtcdKeyValue(kv.Key.ToByteArray(), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);
    }
}
