using EtcdServerless.Core.Scheduling;

namespace EtcdServerless.Core.Tests.Scheduling;

public sealed class BackupSchedulerTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TakeDue_BeforeFirstOccurrence_ReturnsNothing()
    {
        // Arrange
        var time = new FakeTimeProvider(s_start);
        var scheduler = new BackupScheduler([new("prod", "0 */15 * * * *")], time);

        // Act
        time.Advance(TimeSpan.FromMinutes(14));
        var due = scheduler.TakeDue();

        // Assert
        Assert.Empty(due);
        Assert.Equal(s_start.AddMinutes(15), scheduler.NextDue("prod"));
    }

    [Theory]
    [InlineData(15)]        // exactly on time
    [InlineData(16)]        // a little late
    [InlineData(60 * 24)]   // a day of downtime: 96 missed occurrences
    public void TakeDue_AfterOneOrManyOccurrences_ReturnsClusterOnce(int minutesLater)
    {
        // Arrange
        var time = new FakeTimeProvider(s_start);
        var scheduler = new BackupScheduler([new("prod", "0 */15 * * * *")], time);
        time.Advance(TimeSpan.FromMinutes(minutesLater));

        // Act
        var first = scheduler.TakeDue();
        var second = scheduler.TakeDue();

        // Assert: due once, missed occurrences not stacked, next one is after now.
        Assert.Equal(["prod"], first);
        Assert.Empty(second);
        Assert.True(scheduler.NextDue("prod") > time.GetUtcNow());
        Assert.True(scheduler.NextDue("prod") <= time.GetUtcNow().AddMinutes(15));
    }

    [Fact]
    public void TakeDue_SeveralClusters_ReturnsOnlyTheDueOnesInNameOrder()
    {
        // Arrange
        var time = new FakeTimeProvider(s_start);
        var scheduler = new BackupScheduler(
            [new("zeta", "0 */5 * * * *"), new("alpha", "0 */5 * * * *"), new("hourly", "0 0 * * * *"), new("manual", null), new("blank", " ")],
            time);

        // Act
        time.Advance(TimeSpan.FromMinutes(5));
        var due = scheduler.TakeDue();

        // Assert
        Assert.Equal(["alpha", "zeta"], due);
        Assert.Equal(["alpha", "hourly", "zeta"], scheduler.Clusters);
        Assert.Null(scheduler.NextDue("manual"));
    }

    [Fact]
    public void SetLastRun_OccurrenceMissedWhileStopped_IsDueOnceAtStart()
    {
        // Arrange: last backup 3 hours ago on an hourly schedule; the process starts now.
        var time = new FakeTimeProvider(s_start.AddMinutes(30));
        var scheduler = new BackupScheduler([new("prod", "0 0 * * * *")], time);

        // Act
        scheduler.SetLastRun("prod", s_start.AddHours(-3));
        var due = scheduler.TakeDue();
        var again = scheduler.TakeDue();

        // Assert
        Assert.Equal(["prod"], due);
        Assert.Empty(again);
        Assert.Equal(s_start.AddHours(1), scheduler.NextDue("prod"));
    }

    [Fact]
    public void SetLastRun_RecentBackup_WaitsForTheNextOccurrence()
    {
        // Arrange
        var time = new FakeTimeProvider(s_start.AddMinutes(30));
        var scheduler = new BackupScheduler([new("prod", "0 0 * * * *")], time);

        // Act
        scheduler.SetLastRun("prod", s_start.AddMinutes(1));

        // Assert
        Assert.Empty(scheduler.TakeDue());
        Assert.Equal(TimeSpan.FromMinutes(30), scheduler.DelayUntilNextDue());
    }

    [Fact]
    public void DelayUntilNextDue_NothingScheduled_IsNull()
    {
        var scheduler = new BackupScheduler([new("manual", null)], new FakeTimeProvider(s_start));

        Assert.Null(scheduler.DelayUntilNextDue());
    }

    [Fact]
    public void DelayUntilNextDue_Overdue_IsZero()
    {
        var time = new FakeTimeProvider(s_start);
        var scheduler = new BackupScheduler([new("prod", "*/10 * * * * *")], time);

        time.Advance(TimeSpan.FromMinutes(3));

        Assert.Equal(TimeSpan.Zero, scheduler.DelayUntilNextDue());
    }

    [Theory]
    [InlineData("0 */15 * * *")]
    [InlineData("0 */15 * * * * *")]
    [InlineData("0 61 * * * *")]
    [InlineData("every minute")]
    public void Constructor_InvalidSchedule_ThrowsNamingTheKey(string expression)
    {
        var ex = Assert.Throws<ArgumentException>(() => new BackupScheduler([new("prod-east", expression)], TimeProvider.System));

        Assert.Contains("Clusters:prod-east:Schedule", ex.Message, StringComparison.Ordinal);
    }
}
