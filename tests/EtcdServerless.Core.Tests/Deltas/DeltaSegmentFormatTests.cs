using System.Buffers.Binary;
using System.Text;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Core.Tests.Deltas;

/// <summary>The segment record stream: round trip with revisions grouped back, and every malformation refused.</summary>
public sealed class DeltaSegmentFormatTests
{
    [Fact]
    public async Task ReadRevisions_WrittenSegment_SameRevisionsEventsAndHash()
    {
        var (bytes, sha) = await WriteAsync(Revision(5, Put("/a", "1", create: 5, version: 1)),
            Revision(6, Put("/a", "2", create: 5, version: 2, lease: 0x1234), Delete("/b", 6), Put("/c", new string('x', 70_000), create: 6, version: 1)),
            Revision(9, Delete("/a", 9)));
        using var reader = new DeltaSegmentReader(new MemoryStream(bytes));

        var read = await ReadAllAsync(reader);

        Assert.Equal([5L, 6, 9], read.Select(r => r.Revision));
        Assert.Equal([1, 3, 1], read.Select(r => r.Events.Count));
        var put = read[1].Events[0];
        Assert.Equal(("/a", "2", 5L, 6L, 2L, 0x1234L, false), (Encoding.UTF8.GetString(put.Kv.Key), Encoding.UTF8.GetString(put.Kv.Value), put.Kv.CreateRevision, put.Kv.ModRevision, put.Kv.Version, put.Kv.Lease, put.IsDelete));
        Assert.True(read[1].Events[1].IsDelete);
        Assert.Equal(70_000, read[1].Events[2].Kv.Value.Length);
        Assert.Equal(sha, reader.Sha256);
        Assert.Equal(bytes.Length, reader.Size);
        Assert.Equal((5L, 9L, 5L, 3L), reader.Summary);
    }

    [Fact]
    public async Task ReadRevisions_BadMagic_InvalidData()
    {
        var (bytes, _) = await WriteAsync(Revision(5, Put("/a", "1", 5, 1)));
        bytes[0] = (byte)'X';

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(new DeltaSegmentReader(new MemoryStream(bytes))));
        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRevisions_CutBeforeTheEndRecord_EndOfStream()
    {
        var (bytes, _) = await WriteAsync(Revision(5, Put("/a", "1", 5, 1)), Revision(6, Put("/b", "1", 6, 1)));

        await Assert.ThrowsAsync<EndOfStreamException>(() => ReadAllAsync(new DeltaSegmentReader(new MemoryStream(bytes[..^10]))));
    }

    [Fact]
    public async Task ReadRevisions_DataAfterTheEndRecord_InvalidData()
    {
        var (bytes, _) = await WriteAsync(Revision(5, Put("/a", "1", 5, 1)));

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(new DeltaSegmentReader(new MemoryStream([.. bytes, 0]))));
        Assert.Contains("after the end record", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRevisions_EndRecordDisagrees_InvalidData()
    {
        var (bytes, _) = await WriteAsync(Revision(5, Put("/a", "1", 5, 1)));
        // The event count is the third i64 of the end record's payload, the last 32 bytes.
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(bytes.Length - 16), 7);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(new DeltaSegmentReader(new MemoryStream(bytes))));
        Assert.Contains("end record states", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRevisions_RecordLengthOutOfBounds_InvalidData()
    {
        var (bytes, _) = await WriteAsync(Revision(5, Put("/a", "1", 5, 1)));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), uint.MaxValue);

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(new DeltaSegmentReader(new MemoryStream(bytes))));
        Assert.Contains("out of bounds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRevisions_UnknownRecordKind_InvalidData()
    {
        var (bytes, _) = await WriteAsync(Revision(5, Put("/a", "1", 5, 1)));
        bytes[12] = (byte)'Z';

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(new DeltaSegmentReader(new MemoryStream(bytes))));
        Assert.Contains("unknown record kind", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteRevision_RevisionsNotIncreasing_Refused()
    {
        using var writer = new DeltaSegmentWriter(new MemoryStream());
        await writer.WriteRevisionAsync(Revision(5, Put("/a", "1", 5, 1)));

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteRevisionAsync(Revision(5, Put("/b", "1", 5, 1))));
    }

    [Fact]
    public async Task WriteRevision_EventOfAnotherRevision_Refused()
    {
        using var writer = new DeltaSegmentWriter(new MemoryStream());

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteRevisionAsync(Revision(5, Put("/a", "1", create: 4, version: 1, modRevision: 4))));
    }

    [Fact]
    public void SegmentId_RoundTripsAndSortsByRevision()
    {
        var id = DeltaNaming.SegmentId(101, 250);

        Assert.Equal("r000000000101-r000000000250", id);
        Assert.True(DeltaNaming.TryParseSegmentId(id, out var from, out var to));
        Assert.Equal((101L, 250L), (from, to));
        Assert.False(DeltaNaming.TryParseSegmentId("r000000000250-r000000000101", out _, out _));
        Assert.False(DeltaNaming.TryParseSegmentId("../r000000000001-r000000000002", out _, out _));
        Assert.True(string.CompareOrdinal(DeltaNaming.SegmentId(9, 10), DeltaNaming.SegmentId(10, 11)) < 0);
    }

    private static EtcdRevisionEvents Revision(long revision, params (bool Delete, string Key, string Value, long Create, long Version, long Lease, long? Mod)[] events) =>
        new(revision, [.. events.Select(e => new EtcdWatchEvent(e.Delete, new EtcdKeyValue(Encoding.UTF8.GetBytes(e.Key), Encoding.UTF8.GetBytes(e.Value), e.Create, e.Mod ?? revision, e.Version, e.Lease)))]);

    private static (bool, string, string, long, long, long, long?) Put(string key, string value, long create, long version, long lease = 0, long? modRevision = null) =>
        (false, key, value, create, version, lease, modRevision);

    private static (bool, string, string, long, long, long, long?) Delete(string key, long revision) => (true, key, "", 0, 0, 0, revision);

    private static async Task<(byte[] Bytes, string Sha)> WriteAsync(params EtcdRevisionEvents[] revisions)
    {
        var output = new MemoryStream();
        using var writer = new DeltaSegmentWriter(output);
        foreach (var revision in revisions)
        {
            await writer.WriteRevisionAsync(revision);
        }

        var sha = await writer.CompleteAsync();
        return (output.ToArray(), sha);
    }

    private static async Task<List<EtcdRevisionEvents>> ReadAllAsync(DeltaSegmentReader reader)
    {
        var list = new List<EtcdRevisionEvents>();
        await foreach (var revision in reader.ReadRevisionsAsync())
        {
            list.Add(revision);
        }

        return list;
    }
}
