using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;

namespace EtcdServerless.Workflows.Tests.Backup;

/// <summary>End-to-end backups against a real 3-member etcd cluster and the local store.</summary>
public sealed class BackupOrchestrationTests
{
    [Fact]
    public async Task Backup_ThreeMembers_ArtifactAndManifestMatchEtcdctl()
    {
        // Arrange
        await using var f = await BackupFixture.StartAsync();
        await f.FillAsync(300, 512);

        // Act
        var (state, result) = await f.BackupAsync();

        // Assert: manifest written and equal to what etcdctl says about the decrypted artifact.
        Assert.True(result.Succeeded, result.Message);
        var manifest = result.Manifest!;
        var stored = await new BackupCatalog(f.Store).GetAsync(BackupFixture.ClusterName, manifest.BackupId);
        Assert.Equal(manifest.Snapshot, stored.Snapshot);
        Assert.True(stored.Flags.Verified);
        Assert.False(stored.Flags.KeyCountDropped);
        Assert.Empty(result.Warnings); // the member that delivered is not a warning
        var plain = await f.DecryptAsync(manifest.Artifact.Name);
        var etcdctl = await f.EtcdctlStatusAsync(plain);
        Assert.Equal(etcdctl.Hash, manifest.Snapshot.Hash);
        Assert.Equal(etcdctl.Revision, manifest.Snapshot.Revision);
        Assert.Equal(etcdctl.TotalKey, manifest.Snapshot.TotalKey);
        Assert.Equal(new FileInfo(plain).Length, manifest.Snapshot.Size);
        Assert.False(manifest.Source.IsLeader); // followers are preferred
        Assert.Equal(2, (await f.ListObjectsAsync()).Count);
        Assert.Contains("\"phase\":\"done\"", state.SerializedCustomStatus, StringComparison.Ordinal);
        Assert.Equal("BackupOrchestration", state.Name);
        Assert.StartsWith("backup-c1-", state.InstanceId, StringComparison.Ordinal);

        // And the verifier agrees with everything.
        var verification = await new BackupVerifier(f.Store, f.Keys).VerifyAsync(BackupFixture.ClusterName, manifest.BackupId);
        Assert.True(verification.Passed, string.Join("; ", verification.Checks.Where(c => !c.Passed)));
    }

    [Fact]
    public async Task Backup_OneMemberDown_SucceedsFromAnotherAndWarns()
    {
        await using var f = await BackupFixture.StartAsync();
        await f.FillAsync(50, 128);
        await f.Cluster.KillMemberAsync(1);

        var (_, result) = await f.BackupAsync();

        Assert.True(result.Succeeded, result.Message);
        Assert.NotEqual(f.Cluster.ClientUrls[1].TrimEnd('/'), result.Manifest!.Source.Endpoint.TrimEnd('/'));
        Assert.Contains(result.Warnings, w => w.Contains("unreachable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Backup_AllMembersDown_FailsWithClearMessageAndNoManifest()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.Cluster.KillMemberAsync(0);

        var (_, result) = await f.BackupAsync();

        Assert.False(result.Succeeded);
        Assert.Equal("capture", result.FailedPhase);
        Assert.Contains("No member", result.Message, StringComparison.Ordinal);
        Assert.Empty(await f.ListObjectsAsync());
    }

    [Fact]
    public async Task Backup_SourceKilledMidStream_CompletesFromAnotherMemberAndNothingPartialIsVisible()
    {
        // Arrange: enough data that the stream is still running when the source dies.
        await using var f = await BackupFixture.StartAsync();
        await f.FillAsync(1500, 16 * 1024);
        var ranking = await SourceCandidates.RankAsync(f.Environment, f.Options.Clusters[BackupFixture.ClusterName]);
        var first = ranking.Candidates[0].Endpoint.ToString().TrimEnd('/');
        var victim = f.Cluster.ClientUrls.ToList().FindIndex(u => u.TrimEnd('/') == first);
        var killed = 0;
        f.Store.OnArtifactWrite = async written =>
        {
            if (written > 256 * 1024 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                await f.Cluster.KillMemberAsync(victim);
            }
        };

        // Act
        var (_, result) = await f.BackupAsync();

        // Assert
        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(1, killed);
        Assert.NotEqual(first, result.Manifest!.Source.Endpoint.TrimEnd('/'));
        Assert.Contains(result.Warnings, w => w.Contains("broke", StringComparison.Ordinal) || w.Contains("verification", StringComparison.Ordinal));
        Assert.Equal(2, f.Store.ArtifactWritersOpened);
        var objects = await f.ListObjectsAsync();
        string[] expected = [result.Manifest.Artifact.Name, BackupNaming.ManifestName(BackupFixture.ClusterName, result.Manifest.BackupId)];
        Assert.Equal(expected.Order(StringComparer.Ordinal), objects.Order(StringComparer.Ordinal));
        var plain = await f.DecryptAsync(result.Manifest.Artifact.Name);
        Assert.Equal((await f.EtcdctlStatusAsync(plain)).TotalKey, result.Manifest.Snapshot.TotalKey);
    }

    [Fact]
    public async Task Backup_StorageFaultMidUpload_NoManifestThenNextRunSucceeds()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(200, 2048);
        f.Store.FailNextWriters(1);
        f.Store.FailAfterBytes = 4096;

        var (_, failed) = await f.BackupAsync();
        var afterFailure = await f.ListObjectsAsync();
        var (_, retried) = await f.BackupAsync();

        Assert.False(failed.Succeeded);
        Assert.Equal("capture", failed.FailedPhase);
        Assert.Contains("injected storage fault", failed.Message, StringComparison.Ordinal);
        Assert.Empty(afterFailure);
        Assert.True(retried.Succeeded, retried.Message);
        Assert.Equal(2, (await f.ListObjectsAsync()).Count);
    }

    [Fact]
    public async Task Backup_OverlappingStarts_OnlyOneBackupRuns()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(20, 128);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Store.OnArtifactWrite = async _ =>
        {
            entered.TrySetResult();
            await gate.Task;
        };

        var first = await f.Gateway.StartBackupAsync(BackupFixture.ClusterName, BackupTrigger.Scheduled);
        await entered.Task.WaitAsync(TimeSpan.FromMinutes(1));

        // Eight requests at once while it runs: every one is joined to the running instance.
        var joined = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            f.Gateway.StartBackupAsync(BackupFixture.ClusterName, i % 2 == 0 ? BackupTrigger.OnDemand : BackupTrigger.Scheduled)));
        gate.SetResult();
        var (_, result) = await f.Engine.CompleteAsync<BackupResult>(first.InstanceId);
        var next = await f.Gateway.StartBackupAsync(BackupFixture.ClusterName, BackupTrigger.OnDemand);
        var (_, nextResult) = await f.Engine.CompleteAsync<BackupResult>(next.InstanceId);

        Assert.False(first.Deduplicated);
        Assert.All(joined, j => Assert.True(j.Deduplicated));
        Assert.All(joined, j => Assert.Equal(first.InstanceId, j.InstanceId));
        Assert.True(result.Succeeded, result.Message);
        Assert.False(next.Deduplicated);
        Assert.NotEqual(first.InstanceId, next.InstanceId); // every run has its own id
        Assert.True(nextResult.Succeeded, nextResult.Message);
        Assert.Equal(2, f.Store.ArtifactWritersOpened);
        Assert.Equal(2, (await new BackupCatalog(f.Store).ListAsync(BackupFixture.ClusterName)).Count);
    }

    [Fact]
    public async Task Backup_KeyCountDrop_FlaggedAndRetentionKeepsTheLastGoodBackup()
    {
        // Retention that, without the drop rule, would keep only the newest backup.
        await using var f = await BackupFixture.StartAsync(members: 1, retention: new RetentionOptions { KeepLast = 1, Hourly = 0, Daily = 0, Weekly = 0, Monthly = 0 });
        await f.FillAsync(200, 64);
        var (_, good) = await f.BackupAsync();
        await f.DeletePrefixAsync("/registry/pods/00001");

        var (_, mild) = await f.BackupAsync();
        await f.DeletePrefixAsync("/registry/pods/");
        var (_, dropped) = await f.BackupAsync();

        Assert.False(mild.KeyCountDropped);
        Assert.True(dropped.Succeeded, dropped.Message);
        Assert.True(dropped.KeyCountDropped);
        Assert.True(dropped.Manifest!.Flags.KeyCountDropped);
        Assert.Contains(dropped.Warnings, w => w.Contains("key count dropped", StringComparison.Ordinal));
        var kept = (await new BackupCatalog(f.Store).ListAsync(BackupFixture.ClusterName)).Select(m => m.BackupId).ToList();
        Assert.Contains(dropped.Manifest.BackupId, kept);
        Assert.Contains(mild.Manifest!.BackupId, kept); // the last good one before the drop
        Assert.DoesNotContain(good.Manifest!.BackupId, kept); // plain retention still works
        Assert.Contains(mild.Manifest.BackupId, dropped.Retention!.Protected);
    }

    [Fact]
    public async Task Backup_ConsistencyCheckEnabled_ReportsAllMembersConsistent()
    {
        await using var f = await BackupFixture.StartAsync(pipeline: new BackupPipelineOptions { ConsistencyCheck = true });
        await f.FillAsync(30, 64);

        var (_, result) = await f.BackupAsync();

        Assert.True(result.Succeeded, result.Message);
        Assert.True(result.Consistency!.Consistent, result.Consistency.Message);
        Assert.Equal(3, result.Consistency.Members.Count);
        Assert.Equal(result.Manifest!.Snapshot.Revision, result.Consistency.Revision);
    }

    [Fact]
    public async Task Backup_UnknownCluster_FailsWithoutTouchingTheStore()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);

        var (_, result) = await f.BackupAsync("nope");

        Assert.False(result.Succeeded);
        Assert.Contains("not configured", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, f.Store.ArtifactWritersOpened);
    }

    [Theory]
    [InlineData(100, 49, true)]
    [InlineData(100, 50, false)]
    [InlineData(100, 100, false)]
    [InlineData(0, 0, false)]
    public void IsDrop_Threshold_Boundaries(long previous, long current, bool expected) =>
        Assert.Equal(expected, WriteManifestActivity.IsDrop(current, previous, 0.5));

    [Fact]
    public void IsDrop_NoPreviousOrDisabled_IsFalse()
    {
        Assert.False(WriteManifestActivity.IsDrop(0, null, 0.5));
        Assert.False(WriteManifestActivity.IsDrop(0, 100, 0));
    }
}
