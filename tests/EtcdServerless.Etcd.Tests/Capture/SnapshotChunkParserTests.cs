using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Protocol;
using Google.Protobuf;

namespace EtcdServerless.Etcd.Tests.Capture;

public sealed class SnapshotChunkParserTests
{
    [Fact]
    public void Parse_GeneratedMessage_ReturnsSameFields()
    {
        var blob = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var message = new SnapshotResponse
        {
            Header = new ResponseHeader { ClusterId = 7, Revision = 9 },
            RemainingBytes = 123456789012,
            Blob = ByteString.CopyFrom(blob),
            Version = "3.6.0",
        }.ToByteArray();

        var chunk = SnapshotChunkParser.Parse(message);

        Assert.Equal(blob, chunk.Blob.ToArray());
        Assert.Equal(123456789012ul, chunk.RemainingBytes);
        Assert.Equal("3.6.0", chunk.Version);
    }

    [Fact]
    public void Parse_EmptyMessage_ReturnsEmptyChunk()
    {
        var chunk = SnapshotChunkParser.Parse(ReadOnlyMemory<byte>.Empty);

        Assert.True(chunk.Blob.IsEmpty);
        Assert.Equal(0ul, chunk.RemainingBytes);
    }

    [Theory]
    [InlineData(new byte[] { 0x1A, 0x05, 1, 2 })]
    [InlineData(new byte[] { 0x10, 0xFF })]
    [InlineData(new byte[] { 0x1B })]
    [InlineData(new byte[] { 0x09, 1, 2, 3 })]
    public void Parse_Malformed_ThrowsInvalidData(byte[] message)
    {
        Assert.Throws<InvalidDataException>(() => SnapshotChunkParser.Parse(message));
    }
}
