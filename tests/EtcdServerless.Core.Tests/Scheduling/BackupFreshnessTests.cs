using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Scheduling;

namespace EtcdServerless.Core.Tests.Scheduling;

public sealed class BackupFreshnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 7, 0, TimeSpan.Zero);

    [Fact]
    public void Evaluate_WithinTwiceTheSchedule_FreshWithNextRun()
    {
        var result = BackupFreshness.Evaluate("lab", new ClusterOptions { Schedule = "0 */15 * * * *" }, Manifest(Now.AddMinutes(-29)), Now);

        Assert.Equal(FreshnessState.Fresh, result.State);
        Assert.Equal(TimeSpan.FromMinutes(30), result.MaxAge);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 12, 15, 0, TimeSpan.Zero), result.NextScheduledRun);
        Assert.Equal(TimeSpan.FromMinutes(29), result.Age);
    }

    [Fact]
    public void Evaluate_OlderThanTwiceTheSchedule_Stale() =>
        Assert.Equal(FreshnessState.Stale, BackupFreshness.Evaluate("lab", new ClusterOptions { Schedule = "0 */15 * * * *" }, Manifest(Now.AddMinutes(-31)), Now).State);

    [Fact]
    public void Evaluate_MaxAgeSet_OverridesTheSchedule()
    {
        var result = BackupFreshness.Evaluate("lab", new ClusterOptions { Schedule = "0 */15 * * * *", MaxAge = TimeSpan.FromHours(2) }, Manifest(Now.AddMinutes(-90)), Now);

        Assert.Equal(FreshnessState.Fresh, result.State);
        Assert.Equal("MaxAge", result.MaxAgeSource);
    }

    [Fact]
    public void Evaluate_DailySchedule_UsesTheComingGap()
    {
        // 02:00 every day: twice the interval is 48 hours.
        var result = BackupFreshness.Evaluate("lab", new ClusterOptions { Schedule = "0 0 2 * * *" }, Manifest(Now.AddHours(-47)), Now);

        Assert.Equal(TimeSpan.FromHours(48), result.MaxAge);
        Assert.Equal(FreshnessState.Fresh, result.State);
    }

    [Fact]
    public void Evaluate_NoBackup_StaleUnlessUnmonitored()
    {
        Assert.Equal(FreshnessState.Stale, BackupFreshness.Evaluate("lab", new ClusterOptions { MaxAge = TimeSpan.FromHours(1) }, null, Now).State);
        Assert.Equal(FreshnessState.Unmonitored, BackupFreshness.Evaluate("lab", new ClusterOptions(), null, Now).State);
        Assert.Equal(FreshnessState.Unmonitored, BackupFreshness.Evaluate("lab", new ClusterOptions(), Manifest(Now.AddDays(-300)), Now).State);
    }

    private static BackupManifest Manifest(DateTimeOffset created) => new()
    {
        BackupId = BackupNaming.CreateBackupId(created, 42),
        Cluster = "lab",
        Created = created,
        Source = new SourceMemberInfo(),
        Snapshot = new SnapshotInfo(),
        Artifact = new ArtifactInfo(),
        Key = new KeyReference(),
    };
}
