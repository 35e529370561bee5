using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EtcdServerless.Etcd.Keyspace;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>
/// <c>backup deltas</c> and <c>backup materialize</c> through the real CLI against a real etcd: writes, overwrites,
/// deletes, leases (granted, revoked) and multi-op transactions between two full backups; each materialized snapshot is
/// compared, key by key, with <c>etcdctl get --prefix "" --rev=R</c> on the live cluster. Damaged and missing segments
/// stop replay with the segment named.
/// </summary>
[Trait("Category", "Cli")]
[UnsupportedOSPlatform("windows")]
public sealed class BackupDeltasCommandTests : IClassFixture<BackupDeltasCommandTests.Fixture>
{
    private readonly Fixture _f;

    public BackupDeltasCommandTests(Fixture fixture) => _f = fixture;

    [Fact]
    public async Task Materialize_SeveralRevisions_EqualsTheLiveClusterAtThatRevision()
    {
        long[] targets =
        [
            _f.Full1Revision,           // the full backup alone
            _f.Full1Revision + 1,       // the first replayed revision
            _f.TxnRevision,             // a multi-op transaction
            _f.RangeDeleteRevision,     // one revision deleting several keys
            _f.Segments[0].To,          // a segment boundary
            _f.LeaseRevokeRevision,     // keys deleted by a lease revocation
            _f.Full2Revision,           // the second full backup's exact revision
            _f.FinalRevision,           // the newest captured revision, replayed over the second full backup
        ];
        foreach (var target in targets.Distinct())
        {
            var file = _f.Env.Combine($"at-{target}.db");

            var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(target), "-o", file, "--config", _f.Config);

            Assert.True(run.ExitCode == 0, $"revision {target}: {run.Err}");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            using (var status = JsonDocument.Parse(await _f.Etcd.EtcdCtlOfflineAsync("snapshot", "status", file, "-w", "json")))
            {
                Assert.Equal(target, status.RootElement.GetProperty("revision").GetInt64());
            }

            await AssertSameKeysAsync(file, target);
        }
    }

    [Fact]
    public async Task Materialize_AfterTheSecondFullBackup_ChainStartsThereAndOverlapIsSkipped()
    {
        var file = _f.Env.Combine("final-chain.db");

        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(_f.FinalRevision), "-o", file, "--config", _f.Config, "--dry-run");

        Assert.True(run.ExitCode == 0, run.Err);
        // The third segment starts before the second full backup's revision; it is the one replayed, from its middle.
        Assert.Contains($"chain: full backup {_f.Full2Id} (revision {_f.Full2Revision}) + {_f.Segments[2].Id} up to revision {_f.FinalRevision}", run.Out, StringComparison.Ordinal);
        Assert.True(_f.Segments[2].From <= _f.Full2Revision);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Materialize_ToTime_EndsAtTheNewestRevisionCapturedByThen()
    {
        var file = _f.Env.Combine("by-time.db");

        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-time", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O", CultureInfo.InvariantCulture), "-o", file, "--config", _f.Config);

        Assert.True(run.ExitCode == 0, run.Err);
        Assert.Contains($"materialized lab at revision {_f.FinalRevision} ", run.Out, StringComparison.Ordinal);
        await AssertSameKeysAsync(file, _f.FinalRevision);
    }

    [Fact]
    public async Task Materialize_BeforeTheFirstFullBackup_FailsWithOneLine()
    {
        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-time", "2000-01-01T00:00:00Z", "-o", _f.Env.Combine("never.db"), "--config", _f.Config);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: cluster 'lab' has nothing captured at or before 2000-01-01 00:00:00Z", run.Err.Trim());
    }

    [Fact]
    public async Task Materialize_BeyondTheCapturedRevisions_Refused()
    {
        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(_f.FinalRevision + 1000), "-o", _f.Env.Combine("beyond.db"), "--config", _f.Config);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("beyond what was captured", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Materialize_BothTargets_UsageError()
    {
        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", "5", "--to-time", "2026-01-01T00:00:00Z", "-o", _f.Env.Combine("x.db"), "--config", _f.Config);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("exactly one of --to-revision and --to-time", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Materialize_CorruptedSegment_StopsNamingTheSegment()
    {
        var (config, storeDir) = CopyStore();
        var segment = _f.Segments[1];
        var artifact = Path.Combine(storeDir, "lab", "deltas", segment.Id + ".delta.enc");
        var bytes = await File.ReadAllBytesAsync(artifact);
        bytes[bytes.Length - 40] ^= 0x20;
        File.Delete(artifact);
        await File.WriteAllBytesAsync(artifact, bytes);
        var file = _f.Env.Combine($"corrupt-{Guid.NewGuid():N}.db");

        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(segment.To), "-o", file, "--config", config);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"segment {segment.Id}", run.Err, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task Materialize_MissingSegmentArtifact_StopsNamingTheSegment()
    {
        var (config, storeDir) = CopyStore();
        var segment = _f.Segments[0];
        File.Delete(Path.Combine(storeDir, "lab", "deltas", segment.Id + ".delta.enc"));

        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(segment.To), "-o", _f.Env.Combine($"missing-{Guid.NewGuid():N}.db"), "--config", config);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"segment {segment.Id}", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Materialize_SegmentGoneFromTheChain_GapNamed()
    {
        var (config, storeDir) = CopyStore();
        var segment = _f.Segments[0];
        foreach (var suffix in new[] { ".delta.enc", ".delta.json" })
        {
            File.Delete(Path.Combine(storeDir, "lab", "deltas", segment.Id + suffix));
        }

        var run = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(_f.Segments[1].To), "-o", _f.Env.Combine($"gap-{Guid.NewGuid():N}.db"), "--config", config);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"no segment holding revision {_f.Full1Revision + 1}", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_WithSegments_ReportsTheNewestSegmentAndItsLag()
    {
        var (config, _) = CopyStore();
        var newest = _f.Segments.MaxBy(s => s.To)!;

        var json = await Cli.RunAsync("backup", "status", "--cluster", "lab", "--config", config, "-o", "json");
        var table = await Cli.RunAsync("backup", "status", "--cluster", "lab", "--config", config);

        using var doc = JsonDocument.Parse(json.Out);
        var delta = doc.RootElement[0].GetProperty("lastDelta");
        Assert.Equal(newest.To, delta.GetProperty("toRevision").GetInt64());
        Assert.InRange(delta.GetProperty("lagSeconds").GetInt64(), 0, 3600);
        Assert.Contains("DELTA LAG", table.Out, StringComparison.Ordinal);
        Assert.Contains($"(r{newest.To})", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deltas_NothingNew_UpToDateAndNoSegment()
    {
        var (config, storeDir) = CopyStore();
        var before = Directory.GetFiles(Path.Combine(storeDir, "lab", "deltas")).Length;

        var run = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", config, "-o", "json");

        Assert.True(run.ExitCode == 0, run.Err);
        using var json = JsonDocument.Parse(run.Out);
        var capture = json.RootElement.GetProperty("capture");
        Assert.True(capture.GetProperty("succeeded").GetBoolean());
        Assert.Equal(_f.FinalRevision, capture.GetProperty("coveredRevision").GetInt64());
        Assert.Equal(before, Directory.GetFiles(Path.Combine(storeDir, "lab", "deltas")).Length);
    }

    [Fact]
    public async Task Deltas_OldestFullBackupRetired_SegmentsOnlyItNeededAreDeleted()
    {
        var (config, storeDir) = CopyStore();
        foreach (var file in Directory.GetFiles(storeDir, _f.Full1Id + ".*", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }

        var run = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", config, "-o", "json");

        Assert.True(run.ExitCode == 0, run.Err);
        using var json = JsonDocument.Parse(run.Out);
        // Replay starts after the second full backup's revision now: the first two segments end before it.
        Assert.True(_f.Segments[1].To <= _f.Full2Revision);
        Assert.Equal([_f.Segments[0].Id, _f.Segments[1].Id], json.RootElement.GetProperty("capture").GetProperty("prunedSegments").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([_f.Segments[2].Id + ".delta.enc", _f.Segments[2].Id + ".delta.json"],
            Directory.GetFiles(Path.Combine(storeDir, "lab", "deltas")).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal));
        var materialize = await Cli.RunAsync("backup", "materialize", "--cluster", "lab", "--to-revision", Invariant(_f.FinalRevision), "-o", _f.Env.Combine($"after-prune-{Guid.NewGuid():N}.db"), "--config", config);
        Assert.True(materialize.ExitCode == 0, materialize.Err);
    }

    [Fact]
    public void Segments_ChainEachNamingItsPredecessorOrBase()
    {
        var manifests = _f.Segments.Select(s => JsonDocument.Parse(File.ReadAllText(Path.Combine(_f.Env.StoreDir, "lab", "deltas", s.Id + ".delta.json"))).RootElement).ToList();

        Assert.Equal(_f.Full1Id, manifests[0].GetProperty("baseBackupId").GetString());
        Assert.False(manifests[0].TryGetProperty("previous", out _));
        Assert.Equal(_f.Segments[0].Id, manifests[1].GetProperty("previous").GetString());
        Assert.Equal(_f.Segments[1].Id, manifests[2].GetProperty("previous").GetString());
        Assert.Equal(_f.Full1Revision + 1, _f.Segments[0].From);
        Assert.Equal(_f.Segments[0].To + 1, _f.Segments[1].From);
        Assert.Equal(_f.Segments[1].To + 1, _f.Segments[2].From);
        Assert.All(manifests, m => Assert.Equal("HMAC-SHA256/HKDF-SHA256", m.GetProperty("integrity").GetProperty("algorithm").GetString()));
    }

    /// <summary>Every live key of the materialized snapshot equals the live cluster's at <paramref name="revision"/>.</summary>
    private async Task AssertSameKeysAsync(string file, long revision)
    {
        using var live = JsonDocument.Parse(await _f.Etcd.EtcdCtlAsync("get", "", "--prefix", $"--rev={revision}", "-w", "json"));
        var expected = live.RootElement.TryGetProperty("kvs", out var kvs)
            ? kvs.EnumerateArray().Select(kv => (
                Key: Encoding.UTF8.GetString(Convert.FromBase64String(kv.GetProperty("key").GetString()!)),
                Value: kv.TryGetProperty("value", out var v) ? Convert.FromBase64String(v.GetString()!) : [],
                Create: kv.GetProperty("create_revision").GetInt64(),
                Mod: kv.GetProperty("mod_revision").GetInt64(),
                Version: kv.GetProperty("version").GetInt64(),
                Lease: kv.TryGetProperty("lease", out var l) ? l.GetInt64() : 0)).ToList()
            : [];
        Assert.NotEmpty(expected);
        using var handle = File.OpenHandle(file);
        var snapshot = KeyspaceReader.ReadLiveKeys(handle, new FileInfo(file).Length - 32, [], hashValues: true);
        Assert.Equal(revision, snapshot.Revision);
        Assert.Equal(expected.Select(e => e.Key), snapshot.Keys.Select(k => Encoding.UTF8.GetString(k.Key)));
        foreach (var (e, actual) in expected.Zip(snapshot.Keys))
        {
            Assert.True((e.Create, e.Mod, e.Version, e.Lease) == (actual.CreateRevision, actual.ModRevision, actual.Version, actual.Lease),
                $"revision {revision}, key {e.Key}: live {(e.Create, e.Mod, e.Version, e.Lease)}, materialized {(actual.CreateRevision, actual.ModRevision, actual.Version, actual.Lease)}");
            Assert.True(BinaryPrimitives.ReadUInt128LittleEndian(SHA256.HashData(e.Value)) == actual.ValueHash, $"revision {revision}, key {e.Key}: value differs");
        }
    }

    /// <summary>A private copy of the fixture's store (to damage), with a config pointing at it.</summary>
    private (string Config, string StoreDir) CopyStore()
    {
        var root = _f.Env.Combine($"copy-{Guid.NewGuid():N}");
        var store = Path.Combine(root, "store");
        foreach (var source in Directory.GetFiles(_f.Env.StoreDir, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(store, Path.GetRelativePath(_f.Env.StoreDir, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }

        var config = Path.Combine(root, "config.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(store).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(_f.Env.KeysDir).AbsoluteUri },
            Clusters = new { lab = new { Endpoints = _f.Etcd.ClientUrls } },
        }));
        return (config, store);
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A segment as the fixture captured it.</summary>
    public sealed record Segment(string Id, long From, long To);

    public sealed class Fixture : IAsyncLifetime
    {
        public EtcdTestCluster Etcd { get; private set; } = null!;

        internal CliTestEnvironment Env { get; } = new();

        public string Config { get; private set; } = "";

        public string Full1Id { get; private set; } = "";

        public long Full1Revision { get; private set; }

        public string Full2Id { get; private set; } = "";

        public long Full2Revision { get; private set; }

        public long TxnRevision { get; private set; }

        public long RangeDeleteRevision { get; private set; }

        public long LeaseRevokeRevision { get; private set; }

        public long FinalRevision { get; private set; }

        public List<Segment> Segments { get; } = [];

        public async Task InitializeAsync()
        {
            Etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
            await Env.InitializeKeysAsync();
            Config = Env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = Etcd.ClientUrls });
            for (var i = 0; i < 10; i++)
            {
                await Etcd.EtcdCtlAsync("put", $"/a/k{i}", $"value-{i}");
            }

            (Full1Id, Full1Revision) = await FullBackupAsync();

            // Overwrites, a delete, a leased key, a multi-op transaction, a range delete.
            await Etcd.EtcdCtlAsync("put", "/a/k0", "rewritten");
            await Etcd.EtcdCtlAsync("put", "/a/k0", "rewritten-again");
            await Etcd.EtcdCtlAsync("del", "/a/k1");
            var lease = (await Etcd.EtcdCtlAsync("lease", "grant", "600")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            await Etcd.EtcdCtlAsync("put", "/l/one", "leased-1", $"--lease={lease}");
            await Etcd.EtcdCtlAsync("put", "/l/two", "leased-2", $"--lease={lease}");
            await Etcd.EtcdCtlStdinAsync("\nput /t/x tx-1\nput /t/y tx-2\nput /a/k2 in-txn\ndel /a/k3\n\n\n", "txn");
            TxnRevision = await RevisionAsync();
            await Etcd.EtcdCtlAsync("put", "/b/1", "b");
            await Etcd.EtcdCtlAsync("put", "/b/2", "b");
            await Etcd.EtcdCtlAsync("put", "/b/3", "b");
            await Etcd.EtcdCtlAsync("del", "/b/", "--prefix");
            RangeDeleteRevision = await RevisionAsync();
            await Etcd.EtcdCtlAsync("put", "/big", new string('x', 100_000));
            await DeltasAsync();

            // A lease revoked (its keys deleted in one revision), a key deleted and created again.
            await Etcd.EtcdCtlAsync("lease", "revoke", lease);
            LeaseRevokeRevision = await RevisionAsync();
            await Etcd.EtcdCtlAsync("del", "/a/k4");
            await Etcd.EtcdCtlAsync("put", "/a/k4", "reborn");
            var lease2 = (await Etcd.EtcdCtlAsync("lease", "grant", "900")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            await Etcd.EtcdCtlAsync("put", "/l/three", "leased-3", $"--lease={lease2}");
            await DeltasAsync();

            // More writes, the second full backup, more writes: the third segment overlaps the full backup's revision.
            await Etcd.EtcdCtlAsync("put", "/c/1", "c");
            (Full2Id, Full2Revision) = await FullBackupAsync();
            await Etcd.EtcdCtlAsync("put", "/c/2", "c");
            await Etcd.EtcdCtlAsync("put", "/l/three", "leased-3b", $"--lease={lease2}");
            await Etcd.EtcdCtlAsync("del", "/a/k5");
            await DeltasAsync();
            FinalRevision = await RevisionAsync();
        }

        public async Task DisposeAsync()
        {
            await Etcd.DisposeAsync();
            Env.Dispose();
        }

        private async Task<(string Id, long Revision)> FullBackupAsync()
        {
            var run = await Cli.RunAsync("backup", "run", "--config", Config, "-o", "json");
            Assert.True(run.ExitCode == 0, run.Err);
            using var json = JsonDocument.Parse(run.Out);
            var manifest = json.RootElement.GetProperty("manifest");
            return (manifest.GetProperty("backupId").GetString()!, manifest.GetProperty("snapshot").GetProperty("revision").GetInt64());
        }

        private async Task DeltasAsync()
        {
            var run = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", Config, "-o", "json");
            Assert.True(run.ExitCode == 0, run.Err);
            using var json = JsonDocument.Parse(run.Out);
            var segment = json.RootElement.GetProperty("capture").GetProperty("segment");
            Segments.Add(new Segment(segment.GetProperty("segmentId").GetString()!, segment.GetProperty("fromRevision").GetInt64(), segment.GetProperty("toRevision").GetInt64()));
        }

        private async Task<long> RevisionAsync()
        {
            using var json = JsonDocument.Parse(await Etcd.EtcdCtlAsync("get", "/", "-w", "json"));
            return json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        }
    }
}
