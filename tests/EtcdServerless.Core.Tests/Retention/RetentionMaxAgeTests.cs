using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Retention;
using EtcdServerless.Core.Storage;
using EtcdServerless.Core.Tests.Catalog;
using EtcdServerless.Core.Tests.Storage;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Retention;

/// <summary><c>Retention:MaxAgeDays</c>, planned and executed against a fake clock.</summary>
public sealed class RetentionMaxAgeTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly TempDirectory _dir = new("h3-maxage");

    public void Dispose() => _dir.Dispose();

    // One backup a day for 20 days, newest first: index i was created i days before Start.
    private static List<BackupManifest> Daily(int count, Func<int, bool>? verified = null) =>
        [.. Enumerable.Range(0, count).Select(i => TestManifests.Create("c1", Start.AddDays(-i), 1000 - i, verified?.Invoke(i) ?? true))];

    private static RetentionOptions Options(int maxAgeDays, int keepLast = 100, int monthly = 0) =>
        new() { KeepLast = keepLast, Hourly = 0, Daily = 0, Weekly = 0, Monthly = monthly, MaxAgeDays = maxAgeDays };

    [Fact]
    public void Plan_MaxAge_DeletesOlderEvenWhenCountsWouldKeep()
    {
        var backups = Daily(20);

        var plan = new RetentionPolicy(Options(maxAgeDays: 7, monthly: 12), _clock).Plan(backups);

        // Created at Start - 0..7 days are within 7 days; Start - 8 and older are past the cutoff.
        Assert.Equal(backups.Take(8).Select(b => b.BackupId), plan.ToKeep.Select(d => d.BackupId));
        Assert.All(plan.ToDelete, d => Assert.Equal(["older than max-age 7 days"], d.Reasons));
    }

    [Fact]
    public void Plan_MaxAgeWithClockMovingOn_ExpiresMore()
    {
        var backups = Daily(10);
        var policy = new RetentionPolicy(Options(maxAgeDays: 5), _clock);
        var before = policy.Plan(backups).ToKeep.Count();

        _clock.Advance(TimeSpan.FromDays(3));
        var after = policy.Plan(backups).ToKeep.Count();

        Assert.Equal(6, before);
        Assert.Equal(3, after);
    }

    [Fact]
    public void Plan_AllOlderThanMaxAge_KeepsNewestVerifiedOnly()
    {
        // Every backup is 30+ days old and the newest two are unverified: the newest verified one survives.
        _clock.Advance(TimeSpan.FromDays(30));
        var backups = Daily(6, verified: i => i >= 2);

        var plan = new RetentionPolicy(Options(maxAgeDays: 7), _clock).Plan(backups);

        var kept = Assert.Single(plan.ToKeep);
        Assert.Equal(backups[2].BackupId, kept.BackupId);
        Assert.Equal(["newest verified backup"], kept.Reasons);
    }

    [Fact]
    public void Plan_MaxAgeZero_IsNoLimit()
    {
        _clock.Advance(TimeSpan.FromDays(3650));

        var plan = new RetentionPolicy(Options(maxAgeDays: 0), _clock).Plan(Daily(20));

        Assert.Equal(20, plan.ToKeep.Count());
    }

    [Fact]
    public void Policy_NegativeMaxAge_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionPolicy(Options(maxAgeDays: -1), _clock));
    }

    [Fact]
    public async Task Run_MaxAge_DeletesExpiredBackupsFromTheStore()
    {
        var store = new LocalDirectoryBackupStore(_dir.Path, TimeSpan.Zero, _clock);
        var catalog = new BackupCatalog(store, _clock);
        var committed = new List<BackupManifest>();
        foreach (var manifest in Daily(5))
        {
            committed.Add(await TestManifests.CommitAsync(catalog, manifest, Start));
        }

        _clock.Advance(TimeSpan.FromDays(1));
        var result = await new RetentionExecutor(catalog, _clock).RunAsync("c1", Options(maxAgeDays: 2), dryRun: false);

        // Now is Start + 1 day: backups from Start and Start - 1 day are within 2 days.
        Assert.Equal(committed.Skip(2).Select(b => b.BackupId), result.Deleted);
        Assert.Equal(committed.Take(2).Select(b => b.BackupId), (await catalog.ListAsync("c1")).Select(m => m.BackupId));
    }
}
