using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Restore;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Agent.Tests.Restore;

/// <summary>
/// Point-in-time restore end to end: a real 3-member cluster under real agents, a full backup, delta segments
/// captured around the target, then the restore orchestration with <c>toRevision</c>: materialized first, restored
/// through the agents, and every member ends at exactly the target revision with the cluster's keys as they were then.
/// </summary>
public sealed class PointInTimeRestoreTests
{
    [Fact]
    public async Task Restore_ToRevision_EveryMemberEndsAtExactlyThatRevision()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "before/", 10);
        var full = await h.BackupAsync();
        long target;
        using (var client = RestoreHarness.Client(h.Agents.ClientUrls[1]))
        {
            await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[1], "between/", 5);
            await client.PutAsync("before/003", "overwritten");
            await client.DeleteAsync("before/004");
            await CaptureAsync(h);
            await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[2], "target/", 3);
            target = (await client.PutAsync("target/last", "x")).Header.Revision;
            await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "after/", 4);
            await client.DeleteAsync("before/005");
            await CaptureAsync(h);
        }

        var expected = await KeysAtAsync(h.Agents.ClientUrls[0], target);

        var (result, _) = await h.RestoreAsync(h.Request() with { ToRevision = target });

        Assert.True(result.Outcome == RestoreOutcome.Succeeded, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.Contains($"full backup {full.BackupId} (revision {full.Snapshot.Revision}) + ", result.Plan!.PointInTime, StringComparison.Ordinal);
        Assert.Equal(target, result.Plan.Backup.Revision);
        Assert.Equal(target, result.Verification!.Revision);
        Assert.Single(result.Verification.HashKv.Values.Distinct());
        foreach (var url in h.Agents.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(target, (await client.StatusAsync()).Header.Revision);
            var actual = await KeysAtAsync(url, 0);
            Assert.Equal(expected, actual);
        }

        // The point-in-time backup is in the catalog, signed, and says where it came from.
        var pit = await new BackupCatalog(h.Store).GetAsync(RestoreHarness.Cluster, result.Plan.Backup.BackupId);
        Assert.Equal(full.BackupId, pit.MaterializedFrom!.BaseBackupId);
        Assert.Equal(2, pit.MaterializedFrom.Segments.Count);
    }

    [Fact]
    public async Task Restore_ToRevisionDryRun_ShowsTheChainAndMaterializesNothing()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "before/", 3);
        var full = await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "after/", 3);
        var segment = await CaptureAsync(h);

        var (result, _) = await h.RestoreAsync(h.Request(dryRun: true, confirm: null) with { ToRevision = segment.ToRevision - 1 });

        Assert.Equal(RestoreOutcome.Planned, result.Outcome);
        Assert.Equal($"full backup {full.BackupId} (revision {full.Snapshot.Revision}) + {segment.SegmentId} up to revision {segment.ToRevision - 1}", result.Plan!.PointInTime);
        Assert.Equal(full.BackupId, result.Plan.Backup.BackupId);
        Assert.Single(await new BackupCatalog(h.Store).ListAsync(RestoreHarness.Cluster));
    }

    [Fact]
    public async Task Restore_ToRevisionBeyondTheCapture_RejectedAndNothingTouched()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "before/", 3);
        var full = await h.BackupAsync();

        var (result, _) = await h.RestoreAsync(h.Request() with { ToRevision = full.Snapshot.Revision + 100 });

        Assert.Equal(RestoreOutcome.Rejected, result.Outcome);
        Assert.Contains("beyond what was captured", result.Error, StringComparison.Ordinal);
        Assert.All(result.Members, m => Assert.Empty(m.Steps));
    }

    private static async Task<DeltaManifest> CaptureAsync(RestoreHarness h)
    {
        var result = await new DeltaCapture(new BackupEnvironment(h.Options, h.Store, h.Keys, pipeline: new BackupPipelineOptions { TempDirectory = h.Temp.Path }))
            .RunAsync(new DeltaCaptureRequest(RestoreHarness.Cluster));
        Assert.True(result is { Succeeded: true, Segment: not null }, result.Message);
        return result.Segment!;
    }

    private static async Task<List<string>> KeysAtAsync(string url, long revision)
    {
        using var client = RestoreHarness.Client(url);
        var range = await client.RangeAsync(new byte[] { 0 }, new byte[] { 0 }, revision: revision);
        return [.. range.Kvs.Select(kv => $"{kv.KeyString}={kv.ValueString} c{kv.CreateRevision} m{kv.ModRevision} v{kv.Version} l{kv.Lease}")];
    }
}
