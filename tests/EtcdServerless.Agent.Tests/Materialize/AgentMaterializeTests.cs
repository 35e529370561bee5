using System.Buffers.Binary;
using System.Net;
using EtcdServerless.Agent.Tests.Bundles;
using EtcdServerless.Agent.Tests.Drills;
using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Keyspace;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Agent.Tests.Materialize;

/// <summary>
/// Point-in-time materialization on a member's real agent over real mutual TLS: this side decrypts the real full
/// backup and delta segments and streams the plaintexts, the agent replays them on a throwaway real etcd and answers
/// the snapshot. It must equal, key by key, the one materialized here; a damaged part stops it with the part named,
/// and the agent keeps nothing.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class AgentMaterializeTests(AgentMaterializeFixture f) : IClassFixture<AgentMaterializeFixture>
{
    private AgentDrillFixture C => f.Cluster;

    [Fact]
    public async Task Materialize_OnTheAgent_SameRevisionKeysValuesRevisionsAndVersionsAsHere()
    {
        using var agents = C.CreateAgentClient();
        var local = new DeltaMaterializer(C.Store, C.Keys, new MaterializeOptions { TempDirectory = C.Temp.Path });
        foreach (var target in new[] { f.TargetInFirst, f.TargetInSecond })
        {
            var plan = await local.PlanAsync(AgentDrillFixture.Cluster, target, null);
            Assert.NotEmpty(plan.Segments);
            var here = C.Temp.Combine($"here-{target}.db");
            var there = C.Temp.Combine($"agent-{target}.db");

            var localResult = await local.MaterializeAsync(plan, here);
            var agentResult = await new AgentMaterializer(C.Store, C.Keys, agents, C.AgentUrl).MaterializeAsync(plan, there);

            Assert.Equal(target, localResult.Revision);
            Assert.Equal(target, agentResult.Revision);
            Assert.Equal(localResult.RevisionsReplayed, agentResult.RevisionsReplayed);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(there));
            var expected = Keys(here, target);
            var actual = Keys(there, target);
            Assert.Equal(expected, actual);
            Assert.Equal(await LiveKeysAsync(target), actual.Select(k => k[..k.LastIndexOf(" h", StringComparison.Ordinal)]).ToList());
            AssertNoScratchLeft();
        }

        // The lease granted after the full backup was recreated on the throwaway member, under its original id.
        Assert.Contains(Keys(C.Temp.Combine($"agent-{f.TargetInFirst}.db"), f.TargetInFirst), k => k.StartsWith("/pit/leased ", StringComparison.Ordinal) && !k.Contains(" l0 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Materialize_HereWithRoomInMemory_MemberLivesInTheMemoryFolderAndTheResultIsTheDisksOne()
    {
        var memory = Directory.CreateDirectory(C.Temp.Combine("memory")).FullName;
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var inMemory = new DeltaMaterializer(C.Store, C.Keys, new MaterializeOptions { TempDirectory = C.Temp.Path, MemoryDirectory = memory },
            factory.CreateLogger<DeltaMaterializer>());
        var onDisk = new DeltaMaterializer(C.Store, C.Keys, new MaterializeOptions { TempDirectory = C.Temp.Path, MemberInMemory = false });
        var plan = await onDisk.PlanAsync(AgentDrillFixture.Cluster, f.TargetInSecond, null);

        var fromMemory = await inMemory.MaterializeAsync(plan, C.Temp.Combine("from-memory.db"));
        var fromDisk = await onDisk.MaterializeAsync(plan, C.Temp.Combine("from-disk.db"));

        Assert.Contains("data dir is in memory at", logs.Text, StringComparison.Ordinal);
        Assert.Contains($"Folder={memory}{Path.DirectorySeparatorChar}{DeltaMaterializer.FolderPrefix}member-", logs.Text, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(memory));
        Assert.Equal(f.TargetInSecond, fromMemory.Revision);
        Assert.Equal(fromDisk.RevisionsReplayed, fromMemory.RevisionsReplayed);
        Assert.Equal(Keys(fromDisk.Path, f.TargetInSecond), Keys(fromMemory.Path, f.TargetInSecond));
    }

    [Fact]
    public async Task Materialize_CorruptedSegment_StopsNamingTheSegmentAndTheAgentKeepsNothing()
    {
        // A copy of the store whose second segment has one flipped byte near its end (the WORM original stays intact).
        var copy = C.Temp.Combine($"store-damaged-{Guid.NewGuid():N}");
        CopyDirectory(C.Temp.Combine("store"), copy);
        var segment = f.Segments[1];
        var artifact = Directory.GetFiles(copy, "*.delta.enc", SearchOption.AllDirectories).Single(p => p.Contains(segment.SegmentId, StringComparison.Ordinal));
        File.SetAttributes(artifact, FileAttributes.Normal);
        var bytes = await File.ReadAllBytesAsync(artifact);
        bytes[bytes.Length - 40] ^= 0x20;
        File.Delete(artifact);
        await File.WriteAllBytesAsync(artifact, bytes);
        var store = new LocalDirectoryBackupStore(copy);
        var plan = await new DeltaMaterializer(store, C.Keys).PlanAsync(AgentDrillFixture.Cluster, f.TargetInSecond, null);
        using var agents = C.CreateAgentClient();
        var output = C.Temp.Combine($"corrupt-{Guid.NewGuid():N}.db");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new AgentMaterializer(store, C.Keys, agents, C.AgentUrl).MaterializeAsync(plan, output));

        Assert.Contains($"segment {segment.SegmentId}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        await AssertNoScratchLeftAsync();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Materialize_PartNotAsAnnounced_AgentAnswers422NamingThePartAndKeepsNothing(int tampered)
    {
        var plan = await new DeltaMaterializer(C.Store, C.Keys).PlanAsync(AgentDrillFixture.Cluster, f.TargetInSecond, null);
        var request = AgentMaterializeRequest.From(plan);
        var wrong = new string('0', 64);
        request = tampered < 0
            ? request with { Base = request.Base with { Sha256 = wrong } }
            : request with { Segments = [.. request.Segments.Select((s, i) => i == tampered ? s with { Sha256 = wrong } : s)] };
        var body = await BodyAsync(plan, request);
        using var agents = C.CreateAgentClient();

        var error = await Assert.ThrowsAsync<AgentCallException>(() =>
            agents.MaterializeAsync(C.AgentUrl, new MemoryStream(body), body.Length, (_, _, _) => Task.FromResult(0)));

        Assert.Equal(HttpStatusCode.UnprocessableContent, error.StatusCode);
        var part = tampered < 0 ? $"full backup {plan.Base.BackupId}" : $"segment {plan.Segments[tampered].SegmentId}";
        Assert.Contains(part, error.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
        await AssertNoScratchLeftAsync();
    }

    [Fact]
    public async Task Materialize_BodyShorterThanAnnounced_IsABadRequestAndNothingRuns()
    {
        var plan = await new DeltaMaterializer(C.Store, C.Keys).PlanAsync(AgentDrillFixture.Cluster, f.TargetInFirst, null);
        var body = await BodyAsync(plan, AgentMaterializeRequest.From(plan));
        using var agents = C.CreateAgentClient();

        // The description announces more bytes than Content-Length carries.
        var error = await Assert.ThrowsAsync<AgentCallException>(() =>
            agents.MaterializeAsync(C.AgentUrl, new MemoryStream(body, 0, body.Length - 10), body.Length - 10, (_, _, _) => Task.FromResult(0)));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("Content-Length", error.Message, StringComparison.Ordinal);
        await AssertNoScratchLeftAsync();
    }

    [Fact]
    public async Task PointInTimeActivity_AgentUnreachable_ResultErrorNamingTheAgent()
    {
        var unreachable = $"https://127.0.0.1:{FreePorts.Next()}";
        using var agents = C.CreateAgentClient();

        var result = await new PointInTimeActivity(f.Environment(OptionsWith(unreachable)), agents)
            .RunAsync(new PointInTimeRequest(AgentDrillFixture.Cluster, f.TargetInSecond, null, DryRun: false));

        Assert.Null(result.BackupId);
        Assert.Contains(unreachable, result.Error, StringComparison.Ordinal);
        Assert.Contains("unreachable", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PointInTimeActivity_AgentSetWithoutAgentClient_ResultErrorNamingTheSetting()
    {
        var result = await new PointInTimeActivity(f.Environment(OptionsWith(C.AgentUrl)))
            .RunAsync(new PointInTimeRequest(AgentDrillFixture.Cluster, f.TargetInSecond, null, DryRun: false));

        Assert.Null(result.BackupId);
        Assert.Contains("Restore:AgentTls:CertFile", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PointInTimeActivity_OnTheAgent_CommitsASealedBackupAtTheTarget()
    {
        using var agents = C.CreateAgentClient();
        var target = f.TargetInFirst + 2;
        using var logs = new Bundles.CapturingLoggerProvider();
        using var loggers = new Microsoft.Extensions.Logging.LoggerFactory([logs]);

        var result = await new PointInTimeActivity(f.Environment(OptionsWith(C.AgentUrl), loggers), agents)
            .RunAsync(new PointInTimeRequest(AgentDrillFixture.Cluster, target, null, DryRun: false));

        Assert.True(result.Error is null, result.Error);
        Assert.Contains($"at revision {target} on agent {C.AgentUrl}", logs.Text, StringComparison.Ordinal);
        Assert.Equal(target, result.Revision);
        var manifest = await new Core.Catalog.BackupCatalog(C.Store).GetAsync(AgentDrillFixture.Cluster, result.BackupId!);
        Assert.Equal(target, manifest.Snapshot.Revision);
        Assert.Equal(C.Manifest.BackupId, manifest.MaterializedFrom!.BaseBackupId);
        using var decrypted = await DecryptedSnapshot.OpenAsync(C.Store, C.Keys, manifest, C.Temp.Path);
        Assert.Equal(await LiveKeysAsync(target), Keys(decrypted.Path, target).Select(k => k[..k.LastIndexOf(" h", StringComparison.Ordinal)]).ToList());
        AssertNoScratchLeft();
    }

    private EtcdBackupOptions OptionsWith(string materializeAgentUrl)
    {
        var options = new EtcdBackupOptions { Restore = C.Options.Restore };
        options.Clusters[AgentDrillFixture.Cluster] = new ClusterOptions
        {
            Endpoints = C.Options.Clusters[AgentDrillFixture.Cluster].Endpoints,
            Deltas = new DeltaOptions { MaterializeAgentUrl = materializeAgentUrl },
        };
        return options;
    }

    /// <summary>A request body built by hand: the framed description, then the real plaintexts.</summary>
    private async Task<byte[]> BodyAsync(MaterializePlan plan, AgentMaterializeRequest request)
    {
        using var body = new MemoryStream();
        await body.WriteAsync(AgentMaterializeProtocol.Frame(request));
        var basePath = C.Temp.Combine($"base-{Guid.NewGuid():N}.db");
        await DecryptedSnapshot.DecryptAsync(C.Store, C.Keys, plan.Base, basePath);
        await body.WriteAsync(await File.ReadAllBytesAsync(basePath));
        File.Delete(basePath);
        var deltas = new DeltaCatalog(C.Store, C.Keys);
        foreach (var segment in plan.Segments)
        {
            await using var plain = await deltas.OpenPlaintextAsync(segment);
            await plain.CopyToAsync(body);
        }

        Assert.Equal(request.BodyLength(4 + BinaryPrimitives.ReadInt32BigEndian(body.GetBuffer())), body.Length);
        return body.ToArray();
    }

    /// <summary>Every key of a snapshot file with its create and mod revision, version, lease and value hash.</summary>
    private static List<string> Keys(string file, long revision)
    {
        using var handle = File.OpenHandle(file);
        var snapshot = KeyspaceReader.ReadLiveKeys(handle, new FileInfo(file).Length - 32, [], hashValues: true);
        Assert.Equal(revision, snapshot.Revision);
        return [.. snapshot.Keys.Select(k => $"{System.Text.Encoding.UTF8.GetString(k.Key)} c{k.CreateRevision} m{k.ModRevision} v{k.Version} l{k.Lease} h{k.ValueHash}")];
    }

    /// <summary>The live member's keys as they were at <paramref name="revision"/> (history is not compacted here).</summary>
    private async Task<List<string>> LiveKeysAsync(long revision)
    {
        using var client = RestoreHarness.Client(C.Agents.ClientUrls[0]);
        var range = await client.RangeAsync(new byte[] { 0 }, new byte[] { 0 }, revision: revision);
        return [.. range.Kvs.Select(kv => $"{kv.KeyString} c{kv.CreateRevision} m{kv.ModRevision} v{kv.Version} l{kv.Lease}")];
    }

    private void AssertNoScratchLeft()
    {
        var root = f.ScratchRoot;
        Assert.True(!Directory.Exists(root) || Directory.GetFileSystemEntries(root).Length == 0, "the agent left a materialize scratch folder");
        if (Directory.Exists(root))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root));
        }
    }

    /// <summary>The agent cleans up when it notices the caller is gone, which can be a moment after the caller gave up.</summary>
    private async Task AssertNoScratchLeftAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Directory.Exists(f.ScratchRoot) && Directory.GetFileSystemEntries(f.ScratchRoot).Length > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        AssertNoScratchLeft();
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
