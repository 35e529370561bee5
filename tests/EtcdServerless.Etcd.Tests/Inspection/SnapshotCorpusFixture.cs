using System.Text;
using System.Text.Json;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Etcd.Tests.Inspection;

/// <summary>
/// Real snapshots saved by <c>etcdctl snapshot save</c> from one real etcd, each after a different kind of
/// history, with <c>etcdctl snapshot status -w json</c> recorded for each and the live key count for 3.6.
/// </summary>
public sealed class SnapshotCorpusFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("etcdsl-snapcorpus");
    private readonly Dictionary<string, CorpusSnapshot> _snapshots = new(StringComparer.Ordinal);

    /// <summary>Snapshot names, in the order they were taken.</summary>
    public static readonly string[] Names = ["tiny", "branches", "overflow", "tombstones", "leases", "compacted", "auth"];

    internal CorpusSnapshot this[string name] => _snapshots[name];

    public string Directory => _directory.Path;

    public async Task InitializeAsync()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            ExtraArguments = ["--max-txn-ops=2000", "--quota-backend-bytes=1073741824"],
        });

        await cluster.EtcdCtlAsync("put", "foo", "bar");
        await SaveAsync(cluster, "tiny");

        // Thousands of keys: the key bucket stops being inline and grows branch pages. Individual puts first
        // (distinct main revisions), then batched transactions (sub revisions).
        for (var i = 0; i < 40; i++)
        {
            await cluster.EtcdCtlAsync("put", $"single/{i:D3}", $"v{i}");
        }

        for (var batch = 0; batch < 4; batch++)
        {
            var ops = new StringBuilder("\n");
            for (var i = 0; i < 1000; i++)
            {
                ops.Append(System.Globalization.CultureInfo.InvariantCulture, $"put batch/{batch}/{i:D4} value-{batch}-{i}-{new string('x', i % 50)}\n");
            }

            await cluster.EtcdCtlStdinAsync(ops.Append("\n\n").ToString(), "txn");
        }

        await SaveAsync(cluster, "branches");

        // Values larger than a page: leaf pages with overflow pages.
        var big = new string('B', 40_000);
        var huge = string.Concat(Enumerable.Range(0, 3000).Select(i => (char)('a' + (i % 26)) + i.ToString("D3", System.Globalization.CultureInfo.InvariantCulture)));
        await cluster.EtcdCtlAsync("put", "big/1", big);
        await cluster.EtcdCtlAsync("put", "big/2", huge);
        await SaveAsync(cluster, "overflow");

        await cluster.EtcdCtlAsync("del", "--prefix", "batch/1/");
        await cluster.EtcdCtlAsync("del", "foo");
        await cluster.EtcdCtlAsync("put", "foo", "again");
        await SaveAsync(cluster, "tombstones");

        var grant = await cluster.EtcdCtlAsync("lease", "grant", "3600");
        var leaseId = grant.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        await cluster.EtcdCtlAsync("put", "leased/a", "1", "--lease=" + leaseId);
        await cluster.EtcdCtlAsync("put", "leased/b", "2", "--lease=" + leaseId);
        await cluster.EtcdCtlAsync("lease", "grant", "7200");
        await SaveAsync(cluster, "leases");

        var revision = await CurrentRevisionAsync(cluster);
        await cluster.EtcdCtlAsync("compact", (revision - 20).ToString(System.Globalization.CultureInfo.InvariantCulture), "--physical");
        await SaveAsync(cluster, "compacted");

        await cluster.EtcdCtlAsync("user", "add", "root:root-pw");
        await cluster.EtcdCtlAsync("role", "add", "reader");
        await cluster.EtcdCtlAsync("role", "grant-permission", "reader", "read", "foo");
        await cluster.EtcdCtlAsync("user", "add", "alice:alice-pw");
        await cluster.EtcdCtlAsync("user", "grant-role", "alice", "reader");
        await cluster.EtcdCtlAsync("auth", "enable");
        await SaveAsync(cluster, "auth", "--user=root:root-pw");
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    private async Task SaveAsync(EtcdTestCluster cluster, string name, params string[] extra)
    {
        var path = _directory.Combine(name + ".db");
        await cluster.EtcdCtlOnMemberAsync(0, [.. extra, "snapshot", "save", path]);
        var statusJson = await cluster.EtcdCtlOfflineAsync("snapshot", "status", "-w", "json", path);
        using var status = JsonDocument.Parse(statusJson);
        var root = status.RootElement;
        var expected = new SnapshotStatus(
            root.GetProperty("hash").GetUInt32(),
            root.GetProperty("revision").GetInt64(),
            root.GetProperty("totalKey").GetInt64(),
            root.GetProperty("totalSize").GetInt64(),
            null);

        var countJson = await cluster.EtcdCtlAsync([.. extra, "get", "", "--prefix", "--keys-only", "--limit=1", "-w", "json"]);
        using var count = JsonDocument.Parse(countJson);
        var liveKeys = count.RootElement.TryGetProperty("count", out var c) ? c.GetInt64() : 0;
        _snapshots[name] = new CorpusSnapshot(name, path, expected, liveKeys);
    }

    private static async Task<long> CurrentRevisionAsync(EtcdTestCluster cluster)
    {
        var json = await cluster.EtcdCtlAsync("get", "foo", "-w", "json");
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }
}

/// <summary>One saved snapshot and what etcd's own tools say about it.</summary>
internal sealed record CorpusSnapshot(string Name, string Path, SnapshotStatus Expected, long LiveKeys);

[CollectionDefinition(Name)]
public sealed class SnapshotCorpusDefinition : ICollectionFixture<SnapshotCorpusFixture>
{
    public const string Name = "snapshot corpus";
}
