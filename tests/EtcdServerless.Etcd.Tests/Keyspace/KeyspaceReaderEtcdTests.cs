using System.Text;
using System.Text.Json;
using EtcdServerless.Etcd.Keyspace;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Etcd.Tests.Keyspace;

/// <summary>
/// A real etcd with deleted and re-created keys, a lease, a multi-op transaction, compacted history, Kubernetes
/// values, an overflow-page value and enough keys for branch pages; the snapshot is read back and compared with
/// <c>etcdctl get --prefix -w json</c> at the same revision.
/// </summary>
[Trait("Category", "Etcd")]
public sealed class KeyspaceReaderEtcdTests : IClassFixture<KeyspaceReaderEtcdTests.Fixture>
{
    private readonly Fixture _fixture;

    public KeyspaceReaderEtcdTests(Fixture fixture) => _fixture = fixture;

    [Fact]
    public void ReadLiveKeys_RealSnapshot_EqualsEtcdctlGetAtTheSameRevision()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);

        var keyspace = KeyspaceReader.ReadLiveKeys(handle, new FileInfo(_fixture.SnapshotPath).Length - 32, []);

        Assert.Equal(_fixture.Revision, keyspace.Revision);
        Assert.Equal(_fixture.Expected.Select(e => e.Key), keyspace.Keys.Select(k => Encoding.UTF8.GetString(k.Key)));
        foreach (var (expected, actual) in _fixture.Expected.Zip(keyspace.Keys))
        {
            Assert.Equal(expected with { Value = [] }, new EtcdKv(Encoding.UTF8.GetString(actual.Key), actual.CreateRevision, actual.ModRevision, actual.Version, actual.Lease, []));
            Assert.Equal(expected.Value.Length, actual.ValueSize);
        }
    }

    [Fact]
    public void ReadLiveKeys_History_DeletedGoneRecreatedCountsFromOneLeaseKept()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);

        var keys = KeyspaceReader.ReadLiveKeys(handle, new FileInfo(_fixture.SnapshotPath).Length - 32, []).Keys
            .ToDictionary(k => Encoding.UTF8.GetString(k.Key));

        // Guards that the fixture really holds the cases the comparison above is meant to cover.
        Assert.DoesNotContain("/gone", keys.Keys);
        Assert.DoesNotContain("/c", keys.Keys);
        Assert.Equal(1, keys["/b"].Version);
        Assert.True(keys["/b"].CreateRevision > _fixture.FirstRevisionOfB);
        Assert.Equal(_fixture.LeaseId, keys["/leased"].Lease);
        Assert.Equal(keys["/t1"].ModRevision, keys["/t2"].ModRevision);
        Assert.True(keys["/a"].Version >= 3);
        Assert.True(keys["/a"].CreateRevision < _fixture.CompactedAt, "/a must have been created before the compaction");
    }

    [Fact]
    public void ReadLiveKeys_Prefix_EqualsEtcdctlGetPrefix()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);

        var keyspace = KeyspaceReader.ReadLiveKeys(handle, new FileInfo(_fixture.SnapshotPath).Length - 32, "/registry/"u8);

        Assert.Equal(_fixture.Expected.Where(e => e.Key.StartsWith("/registry/", StringComparison.Ordinal)).Select(e => e.Key),
            keyspace.Keys.Select(k => Encoding.UTF8.GetString(k.Key)));
    }

    [Fact]
    public void ReadKey_EveryKey_ValueAndMetadataEqualEtcdctl()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);
        var length = new FileInfo(_fixture.SnapshotPath).Length - 32;

        foreach (var expected in _fixture.Expected.Where(e => !e.Key.StartsWith("/bulk/", StringComparison.Ordinal) || e.Key.EndsWith("/150", StringComparison.Ordinal)))
        {
            var found = KeyspaceReader.ReadKey(handle, length, Encoding.UTF8.GetBytes(expected.Key));

            Assert.NotNull(found);
            Assert.Equal(expected.Value, found.Value);
            Assert.Equal(expected with { Value = [] }, new EtcdKv(expected.Key, found.Key.CreateRevision, found.Key.ModRevision, found.Key.Version, found.Key.Lease, []));
        }
    }

    [Fact]
    public void ReadKey_DeletedOrUnknownKey_Null()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);
        var length = new FileInfo(_fixture.SnapshotPath).Length - 32;

        Assert.Null(KeyspaceReader.ReadKey(handle, length, "/gone"u8));
        Assert.Null(KeyspaceReader.ReadKey(handle, length, "/never-written"u8));
    }

    [Fact]
    public void ReadLiveKeys_KubernetesValues_ApiVersionAndKindFromTheEnvelope()
    {
        using var handle = File.OpenHandle(_fixture.SnapshotPath);

        var keys = KeyspaceReader.ReadLiveKeys(handle, new FileInfo(_fixture.SnapshotPath).Length - 32, "/registry/"u8).Keys
            .ToDictionary(k => Encoding.UTF8.GetString(k.Key));

        Assert.Equal(new KubernetesType("v1", "Pod", "protobuf"), keys["/registry/pods/default/web"].Kubernetes);
        Assert.Equal(new KubernetesType("example.com/v1", "Widget", "json"), keys["/registry/example.com/widgets/default/w1"].Kubernetes);
        Assert.Equal(new KubernetesType("", "", "encrypted:aescbc"), keys["/registry/secrets/default/s1"].Kubernetes);
    }

    [Fact]
    public void ReadLiveKeys_CorruptedSnapshot_InvalidDataException()
    {
        var bytes = File.ReadAllBytes(_fixture.SnapshotPath);
        var pageSize = 4096;
        bytes.AsSpan(2 * pageSize, bytes.Length - (2 * pageSize) - 32).Fill(0xAB);
        var path = _fixture.Directory.Combine("corrupted.db");
        File.WriteAllBytes(path, bytes);
        using var handle = File.OpenHandle(path);

        var error = Assert.Throws<InvalidDataException>(() => KeyspaceReader.ReadLiveKeys(handle, bytes.Length - 32, []));

        Assert.Contains("page", error.Message, StringComparison.Ordinal);
    }

    /// <summary>One key as <c>etcdctl get -w json</c> reports it.</summary>
    public sealed record EtcdKv(string Key, long CreateRevision, long ModRevision, long Version, long Lease, byte[] Value)
    {
        public bool Equals(EtcdKv? other) => other is not null && Key == other.Key && CreateRevision == other.CreateRevision
            && ModRevision == other.ModRevision && Version == other.Version && Lease == other.Lease && Value.AsSpan().SequenceEqual(other.Value);

        public override int GetHashCode() => HashCode.Combine(Key, ModRevision);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        private EtcdTestCluster? _cluster;

        public TempDirectory Directory { get; } = new("etcdsl-keyspace");

        public string SnapshotPath => Directory.Combine("snapshot.db");

        public long Revision { get; private set; }

        public long CompactedAt { get; private set; }

        public long FirstRevisionOfB { get; private set; }

        public long LeaseId { get; private set; }

        public IReadOnlyList<EtcdKv> Expected { get; private set; } = [];

        /// <summary>The member's own <c>HashKV</c> at <see cref="Revision"/>.</summary>
        public uint HashKv { get; private set; }

        public async Task InitializeAsync()
        {
            _cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
            var etcd = _cluster;
            await FillAsync(etcd);
            FirstRevisionOfB = long.Parse(JsonDocument.Parse(await etcd.EtcdCtlAsync("get", "/b", "-w", "json")).RootElement.GetProperty("kvs")[0].GetProperty("create_revision").GetRawText(), System.Globalization.CultureInfo.InvariantCulture);
            await etcd.EtcdCtlAsync("del", "/b");
            await etcd.EtcdCtlAsync("put", "/b", "again");
            await etcd.EtcdCtlAsync("put", "/gone", "x");
            await etcd.EtcdCtlAsync("del", "/gone");
            CompactedAt = Header(await etcd.EtcdCtlAsync("get", "/a", "-w", "json"));
            await etcd.EtcdCtlAsync("compact", CompactedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await etcd.EtcdCtlAsync("put", "/a", "a4");
            var grant = await etcd.EtcdCtlAsync("lease", "grant", "3600");
            var hex = grant.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            LeaseId = Convert.ToInt64(hex, 16);
            await etcd.EtcdCtlAsync("put", "/leased", "l", $"--lease={hex}");
            await etcd.EtcdCtlStdinAsync("\nput /t1 x\nput /t2 y\ndel /c\n\n\n", "txn");

            await etcd.EtcdCtlOnMemberAsync(0, "snapshot", "save", SnapshotPath);
            var json = JsonDocument.Parse(await etcd.EtcdCtlAsync("get", "", "--from-key", "-w", "json"));
            Revision = json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
            Expected = [.. json.RootElement.GetProperty("kvs").EnumerateArray().Select(kv => new EtcdKv(
                Encoding.UTF8.GetString(kv.GetProperty("key").GetBytesFromBase64()),
                Int(kv, "create_revision"), Int(kv, "mod_revision"), Int(kv, "version"), Int(kv, "lease"),
                kv.TryGetProperty("value", out var v) ? v.GetBytesFromBase64() : []))];
            using var hash = JsonDocument.Parse(await etcd.EtcdCtlAsync("endpoint", "hashkv", $"--rev={Revision}", "-w", "json"));
            HashKv = hash.RootElement[0].GetProperty("HashKV").GetProperty("hash").GetUInt32();
        }

        public async Task DisposeAsync()
        {
            if (_cluster is not null)
            {
                await _cluster.DisposeAsync();
            }

            Directory.Dispose();
        }

        private static async Task FillAsync(EtcdTestCluster etcd)
        {
            foreach (var (key, value) in new[] { ("/a", "a1"), ("/b", "b1"), ("/c", "c1"), ("/a", "a2"), ("/a", "a3") })
            {
                await etcd.EtcdCtlAsync("put", key, value);
            }

            // Enough keys for branch pages, in transactions (etcd allows 128 operations per txn).
            for (var batch = 0; batch < 3; batch++)
            {
                var ops = string.Concat(Enumerable.Range(batch * 100, 100).Select(i => $"put /bulk/{i:000} value-{i}-{new string('x', 40)}\n"));
                await etcd.EtcdCtlStdinAsync($"\n{ops}\n\n", "txn");
            }

            // A value that spans overflow pages.
            await etcd.EtcdCtlStdinAsync(new string('v', 20_000), "put", "/big");

            // Kubernetes values: a protobuf runtime.Unknown envelope, a JSON custom resource, encryption at rest.
            var typeMeta = Field(1, "v1"u8) .Concat(Field(2, "Pod"u8)).ToArray();
            var unknown = Field(1, typeMeta).Concat(Field(2, "raw-pod-bytes"u8)).ToArray();
            await etcd.EtcdCtlStdinAsync(Encoding.Latin1.GetString([.. "k8s\0"u8, .. unknown]), "put", "/registry/pods/default/web");
            await etcd.EtcdCtlStdinAsync("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\"}}", "put", "/registry/example.com/widgets/default/w1");
            await etcd.EtcdCtlStdinAsync("k8s:enc:aescbc:v1:key1:opaque", "put", "/registry/secrets/default/s1");
        }

        private static IEnumerable<byte> Field(int number, ReadOnlySpan<byte> bytes) => [(byte)((number << 3) | 2), (byte)bytes.Length, .. bytes];

        private static long Header(string json) => JsonDocument.Parse(json).RootElement.GetProperty("header").GetProperty("revision").GetInt64();

        private static long Int(JsonElement kv, string name) => kv.TryGetProperty(name, out var p) ? p.GetInt64() : 0;
    }
}
