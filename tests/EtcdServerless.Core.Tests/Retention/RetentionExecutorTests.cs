using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Retention;
using EtcdServerless.Core.Storage;
using EtcdServerless.Core.Tests.Catalog;
using EtcdServerless.Core.Tests.Storage;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Retention;

public sealed class RetentionExecutorTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("h3-retention");
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly BackupCatalog _catalog;
    private readonly RetentionExecutor _executor;

    public RetentionExecutorTests()
    {
        _catalog = new BackupCatalog(new LocalDirectoryBackupStore(_dir.Path, TimeSpan.FromDays(1), _clock), _clock);
        _executor = new RetentionExecutor(_catalog, _clock);
    }

    public void Dispose() => _dir.Dispose();

    private async Task<List<BackupManifest>> CommitHourlyAsync(int count, Func<int, DateTimeOffset> retainUntil, Func<int, string>? kekVersion = null)
    {
        var list = new List<BackupManifest>();
        for (var i = 0; i < count; i++)
        {
            var manifest = TestManifests.Create("c1", Start.AddHours(-i), 100 - i, kekVersion: kekVersion?.Invoke(i) ?? "1");
            list.Add(await TestManifests.CommitAsync(_catalog, manifest, retainUntil(i)));
        }

        return list;
    }

    private static RetentionOptions KeepLast(int n) => new() { KeepLast = n, Hourly = 0, Daily = 0, Weekly = 0, Monthly = 0 };

    [Fact]
    public async Task Run_DryRun_DeletesNothingAndReturnsPlan()
    {
        await CommitHourlyAsync(4, _ => Start);
        _clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _executor.RunAsync("c1", KeepLast(1), dryRun: true);

        Assert.True(result.DryRun);
        Assert.Equal(3, result.Plan.ToDelete.Count());
        Assert.Empty(result.Deleted);
        Assert.Equal(4, (await _catalog.ListAsync("c1")).Count);
    }

    [Fact]
    public async Task Run_Expired_DeletesManifestAndArtifact()
    {
        var backups = await CommitHourlyAsync(4, _ => Start);
        _clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _executor.RunAsync("c1", KeepLast(2), dryRun: false);

        Assert.Equal([backups[2].BackupId, backups[3].BackupId], result.Deleted);
        Assert.Equal([backups[0].BackupId, backups[1].BackupId], (await _catalog.ListAsync("c1")).Select(m => m.BackupId));
        Assert.Null(await _catalog.Store.GetInfoAsync(backups[3].Artifact.Name));
        Assert.Empty(await _catalog.FindOrphansAsync("c1", TimeSpan.Zero));
    }

    [Fact]
    public async Task Run_Expired_DeletesItsDrillRecordsKeepsTheOthers()
    {
        var backups = await CommitHourlyAsync(3, _ => Start);
        foreach (var backup in backups)
        {
            await DrillRecords.WriteAsync(_catalog.Store, Drill(backup), Start);
        }

        _clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _executor.RunAsync("c1", KeepLast(2), dryRun: false);

        Assert.Equal([backups[2].BackupId], result.Deleted);
        Assert.Null(await DrillRecords.GetLatestAsync(_catalog.Store, "c1", backups[2].BackupId));
        Assert.NotNull(await DrillRecords.GetLatestAsync(_catalog.Store, "c1", backups[1].BackupId));
        Assert.Equal([backups[0].BackupId, backups[1].BackupId], (await DrillRecords.GetLatestByBackupAsync(_catalog.Store, "c1")).Keys.Order(StringComparer.Ordinal).Reverse());
    }

    private DrillResult Drill(BackupManifest backup) => new()
    {
        Cluster = backup.Cluster,
        BackupId = backup.BackupId,
        Started = _clock.GetUtcNow(),
        Outcome = DrillResult.OutcomePassed,
        Checks = [new DrillCheck("decrypt", true, null, null, null, TimeSpan.Zero)],
    };

    [Fact]
    public async Task Run_StillImmutable_SkipsAndReports()
    {
        var backups = await CommitHourlyAsync(4, i => i == 3 ? Start.AddDays(2) : Start);
        _clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _executor.RunAsync("c1", KeepLast(1), dryRun: false);

        Assert.Equal([backups[1].BackupId, backups[2].BackupId], result.Deleted);
        var skip = Assert.Single(result.SkippedImmutable);
        Assert.Equal(backups[3].BackupId, skip.BackupId);
        Assert.Equal(Start.AddDays(2), skip.RetainUntil);
        Assert.NotNull(await _catalog.Store.GetInfoAsync(backups[3].Artifact.Name));
        Assert.Equal(2, (await _catalog.ListAsync("c1")).Count);
    }

    [Fact]
    public async Task Run_ReportsKekVersionsStillNeeded()
    {
        await CommitHourlyAsync(4, _ => Start, i => i < 2 ? "2" : "1");
        _clock.Advance(TimeSpan.FromMinutes(1));

        var keepTwo = await _executor.RunAsync("c1", KeepLast(2), dryRun: true);
        var keepThree = await _executor.RunAsync("c1", KeepLast(3), dryRun: true);

        Assert.Equal(["2"], keepTwo.RequiredKeys.Select(k => k.KekVersion));
        Assert.Equal(["1", "2"], keepThree.RequiredKeys.Select(k => k.KekVersion));
    }

    [Fact]
    public async Task Run_ArtifactAlreadyGone_StillRemovesManifest()
    {
        var backups = await CommitHourlyAsync(2, _ => Start);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await _catalog.Store.DeleteAsync(backups[1].Artifact.Name);

        var result = await _executor.RunAsync("c1", KeepLast(1), dryRun: false);

        Assert.Equal([backups[1].BackupId], result.Deleted);
        Assert.Single(await _catalog.ListAsync("c1"));
    }

    [Fact]
    public async Task Run_NeverDeletesNewestVerified_EvenWhenNewerUnverifiedExist()
    {
        var store = (LocalDirectoryBackupStore)_catalog.Store;
        var verified = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start.AddHours(-2), 1, verified: true), Start);
        await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start.AddHours(-1), 2, verified: false), Start);
        await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 3, verified: false), Start);
        _clock.Advance(TimeSpan.FromMinutes(1));

        var result = await _executor.RunAsync("c1", KeepLast(1), dryRun: false);

        Assert.DoesNotContain(verified.BackupId, result.Deleted);
        Assert.NotNull(await store.GetInfoAsync(verified.Artifact.Name));
        Assert.Equal(2, (await _catalog.ListAsync("c1")).Count);
    }
}
