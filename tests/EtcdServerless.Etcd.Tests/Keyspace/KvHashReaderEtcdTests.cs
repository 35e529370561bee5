using System.Globalization;
using System.Text.Json;
using EtcdServerless.Etcd.Keyspace;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Etcd.Tests.Keyspace;

/// <summary>
/// <see cref="KvHashReader"/> against the HashKV a real etcd answers for the same revision: compacted history with
/// keys changed, deleted and re-created after the compaction, and a keyspace whose every key was deleted.
/// </summary>
[Trait("Category", "Etcd")]
public sealed class KvHashReaderEtcdTests : IClassFixture<KeyspaceReaderEtcdTests.Fixture>
{
    private readonly KeyspaceReaderEtcdTests.Fixture _fixture;

    public KvHashReaderEtcdTests(KeyspaceReaderEtcdTests.Fixture fixture) => _fixture = fixture;

    [Fact]
    public void Compute_CompactedHistory_EqualsTheMembersHashKv()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);
        var length = new FileInfo(_fixture.SnapshotPath).Length - 32;
        var live = KeyspaceReader.ReadLiveKeys(handle, length, []);

        var hash = KvHashReader.Compute(handle, length, live.Keys);

        Assert.Equal(_fixture.HashKv, hash.Hash);
        Assert.Equal(_fixture.Revision, hash.Revision);
        Assert.Equal(_fixture.CompactedAt, hash.CompactRevision);
    }

    [Fact]
    public void Compute_WithoutTheKeepFilter_Differs()
    {
        // Guards that the fixture's history exercises the keep rule: hashing the whole bucket gives another value.
        using var handle = File.OpenHandle(_fixture.SnapshotPath);
        var length = new FileInfo(_fixture.SnapshotPath).Length - 32;

        var unfiltered = KvHashReader.Compute(handle, length, []);

        Assert.NotEqual(_fixture.HashKv, unfiltered.Hash);
    }

    [Fact]
    public async Task Compute_EveryKeyDeleted_EqualsTheMembersHashKv()
    {
        await using var etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var directory = new TempDirectory("etcdsl-kvhash");
        await etcd.EtcdCtlAsync("put", "/x", "1");
        await etcd.EtcdCtlAsync("put", "/y", "1");
        await etcd.EtcdCtlAsync("put", "/x", "2");
        var compactAt = Revision(await etcd.EtcdCtlAsync("get", "/x", "-w", "json"));
        await etcd.EtcdCtlAsync("compact", compactAt.ToString(CultureInfo.InvariantCulture));
        await etcd.EtcdCtlAsync("del", "/x");
        await etcd.EtcdCtlAsync("del", "/y");
        var path = directory.Combine("empty.db");
        await etcd.EtcdCtlOnMemberAsync(0, "snapshot", "save", path);
        var revision = Revision(await etcd.EtcdCtlAsync("get", "/x", "-w", "json"));
        using var json = JsonDocument.Parse(await etcd.EtcdCtlAsync("endpoint", "hashkv", $"--rev={revision}", "-w", "json"));
        var expected = json.RootElement[0].GetProperty("HashKV").GetProperty("hash").GetUInt32();
        using var handle = File.OpenHandle(path);
        var length = new FileInfo(path).Length - 32;
        var live = KeyspaceReader.ReadLiveKeys(handle, length, []);

        var hash = KvHashReader.Compute(handle, length, live.Keys);

        Assert.Empty(live.Keys);
        Assert.Equal(expected, hash.Hash);
    }

    private static long Revision(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }
}
