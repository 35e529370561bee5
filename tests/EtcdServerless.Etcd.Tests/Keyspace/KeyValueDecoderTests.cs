using EtcdServerless.Etcd.Keyspace;

namespace EtcdServerless.Etcd.Tests.Keyspace;

public sealed class KeyValueDecoderTests
{
    private static readonly RevisionKey Revision = new(5, 0, false);

    [Fact]
    public void Decode_EtcdExample_AllFields()
    {
        // key "foo", create 2, mod 2, version 1, value "bar", lease 7 (etcd's own encoding of such a put).
        byte[] message = Convert.FromHexString("0a03666f6f100218022001" + "2a03626172" + "3007");

        var record = new KeyValueDecoder().Decode(message, Revision);

        Assert.Equal("foo"u8.ToArray(), record.Key.ToArray());
        Assert.Equal("bar"u8.ToArray(), record.Value.ToArray());
        Assert.Equal((2, 2, 1, 7), (record.CreateRevision, record.ModRevision, record.Version, record.Lease));
    }

    [Fact]
    public void Decode_LargeValue_LengthOfMultiByteVarint()
    {
        var value = new byte[300];
        value.AsSpan().Fill(0x61);
        byte[] message = [0x0a, 0x01, 0x6b, 0x2a, 0xac, 0x02, .. value];

        var record = new KeyValueDecoder().Decode(message, Revision);

        Assert.Equal(300, record.Value.Length);
        Assert.Equal("k"u8.ToArray(), record.Key.ToArray());
    }

    [Fact]
    public void Decode_UnknownField_Skipped()
    {
        byte[] message = Convert.FromHexString("0a016b" + "3a0178" + "1003");

        var record = new KeyValueDecoder().Decode(message, Revision);

        Assert.Equal(3, record.CreateRevision);
    }

    [Theory]
    [InlineData("0a05666f6f")] // key length runs past the message
    [InlineData("0a016b10")] // truncated varint
    [InlineData("0a016b1203616263")] // create_revision as bytes
    [InlineData("0a016b0a")] // tag without length
    public void Decode_Malformed_InvalidDataExceptionNamingTheRevision(string hex)
    {
        var error = Assert.Throws<InvalidDataException>(() => new KeyValueDecoder().Decode(Convert.FromHexString(hex), Revision));

        Assert.Contains("5_0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RevisionKey_Parse_PlainAndTombstone()
    {
        Assert.Equal(new RevisionKey(5, 1, false), RevisionKey.Parse(Convert.FromHexString("0000000000000005" + "5f" + "0000000000000001")));
        Assert.Equal(new RevisionKey(5, 0, true), RevisionKey.Parse(Convert.FromHexString("0000000000000005" + "5f" + "0000000000000000" + "74")));
    }

    [Theory]
    [InlineData("00000000000000055f00000000000000")] // 16 bytes
    [InlineData("00000000000000052d0000000000000000")] // '-' instead of '_'
    [InlineData("00000000000000055f000000000000000078")] // 18th byte not 't'
    [InlineData("80000000000000055f0000000000000000")] // negative main
    public void RevisionKey_Parse_NotARevision_InvalidDataException(string hex) =>
        Assert.Throws<InvalidDataException>(() => RevisionKey.Parse(Convert.FromHexString(hex)));

    [Fact]
    public void KubernetesType_NotKubernetes_Null()
    {
        Assert.Null(KubernetesType.TryRead("plain text"u8));
        Assert.Null(KubernetesType.TryRead("{\"name\":\"x\"}"u8));
        Assert.Null(KubernetesType.TryRead("{not json"u8));
    }

    [Fact]
    public void KubernetesType_ProtobufMagicWithBrokenEnvelope_StillMarkedProtobuf() =>
        Assert.Equal(new KubernetesType("", "", "protobuf"), KubernetesType.TryRead([.. "k8s\0"u8, 0x0a, 0x7f]));
}
