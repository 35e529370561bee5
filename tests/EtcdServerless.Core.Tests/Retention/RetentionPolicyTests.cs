using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Retention;
using EtcdServerless.Core.Tests.Catalog;

namespace EtcdServerless.Core.Tests.Retention;

public sealed class RetentionPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static List<BackupManifest> Every(TimeSpan interval, int count, Func<int, bool>? verified = null) =>
        [.. Enumerable.Range(0, count).Select(i => TestManifests.Create("c1", Now - (interval * i), 1000 - i, verified?.Invoke(i) ?? true))];

    private static RetentionOptions Options(int keepLast = 0, int hourly = 0, int daily = 0, int weekly = 0, int monthly = 0) =>
        new() { KeepLast = keepLast, Hourly = hourly, Daily = daily, Weekly = weekly, Monthly = monthly };

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(50, 10)]
    public void Plan_KeepLastOnly_KeepsNewestN(int keepLast, int expectedKept)
    {
        var backups = Every(TimeSpan.FromMinutes(15), 10);

        var plan = new RetentionPolicy(Options(keepLast)).Plan(backups);

        Assert.Equal(backups.Take(expectedKept).Select(b => b.BackupId), plan.ToKeep.Select(d => d.BackupId));
        Assert.All(plan.ToDelete, d => Assert.Equal(["outside the retention policy"], d.Reasons));
    }

    [Fact]
    public void Plan_Hourly_KeepsNewestOfEachRecentHour()
    {
        // 15-minute backups over 5 hours: 12:00, 11:45, ... 7:15.
        var backups = Every(TimeSpan.FromMinutes(15), 20);

        var plan = new RetentionPolicy(Options(hourly: 3)).Plan(backups);

        var kept = plan.ToKeep.Select(d => d.Backup.Created.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(["12:00", "11:45", "10:45"], kept);
        Assert.Contains("hourly 2026-11-21T11", plan.ToKeep.ElementAt(1).Reasons);
    }

    [Fact]
    public void Plan_DailyWeeklyMonthly_KeepsOnePerBucket()
    {
        // Daily backups for 100 days back from Saturday 2026-11-21.
        var backups = Every(TimeSpan.FromDays(1), 100);

        var plan = new RetentionPolicy(Options(daily: 2, weekly: 2, monthly: 3)).Plan(backups);

        var kept = plan.ToKeep.Select(d => d.Backup.Created.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        // daily: 11-21, 11-20; weekly (ISO, Monday start): 11-21 (W47), 11-15 (W46); monthly: 11-21, 10-31, 09-30.
        Assert.Equal(["2026-11-21", "2026-11-20", "2026-11-15", "2026-10-31", "2026-09-30"], kept);
        var newest = plan.Decisions[0];
        Assert.Contains("daily 2026-11-21", newest.Reasons);
        Assert.Contains("weekly 2026-W47", newest.Reasons);
        Assert.Contains("monthly 2026-11", newest.Reasons);
    }

    [Fact]
    public void Plan_NothingConfigured_StillKeepsNewestVerified()
    {
        var backups = Every(TimeSpan.FromHours(1), 5, verified: i => i >= 2);

        var plan = new RetentionPolicy(Options()).Plan(backups);

        var kept = Assert.Single(plan.ToKeep);
        Assert.Equal(backups[2].BackupId, kept.BackupId);
        Assert.Contains("newest verified backup", kept.Reasons);
    }

    [Fact]
    public void Plan_KeyCountDrop_KeepsLastGoodBackupBeforeIt()
    {
        var backups = Every(TimeSpan.FromHours(1), 6);
        backups[0] = backups[0] with { Flags = new BackupFlags { Verified = true, KeyCountDropped = true } };
        backups[1] = backups[1] with { Flags = new BackupFlags { Verified = true, KeyCountDropped = true } };

        var plan = new RetentionPolicy(Options(keepLast: 1)).Plan(backups);

        var kept = plan.ToKeep.Select(d => d.BackupId).ToList();
        Assert.Equal([backups[0].BackupId, backups[2].BackupId], kept);
        Assert.Contains(plan.Decisions.Single(d => d.BackupId == backups[2].BackupId).Reasons, r => r.Contains("key-count drop", StringComparison.Ordinal));
        Assert.Equal([backups[2].BackupId], plan.Decisions.Where(d => d.GuardsKeyCountDrop).Select(d => d.BackupId));
    }

    [Fact]
    public void Plan_InputOrder_DoesNotMatter()
    {
        var backups = Every(TimeSpan.FromMinutes(30), 12);
        var shuffled = backups.OrderBy(b => b.Snapshot.Revision % 5).ThenBy(b => b.BackupId, StringComparer.Ordinal).ToList();

        var a = new RetentionPolicy(Options(keepLast: 2, hourly: 3)).Plan(backups);
        var b = new RetentionPolicy(Options(keepLast: 2, hourly: 3)).Plan(shuffled);

        Assert.Equal(a.Decisions.Select(d => (d.BackupId, d.Keep)), b.Decisions.Select(d => (d.BackupId, d.Keep)));
    }

    [Fact]
    public void Plan_NegativeCount_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionPolicy(Options(keepLast: -1)));
    }

    [Fact]
    public void Plan_Empty_ReturnsEmptyPlan()
    {
        Assert.Empty(new RetentionPolicy(new RetentionOptions()).Plan([]).Decisions);
    }
}
