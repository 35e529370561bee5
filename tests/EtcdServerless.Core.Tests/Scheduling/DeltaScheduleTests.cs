using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Scheduling;

namespace EtcdServerless.Core.Tests.Scheduling;

/// <summary>The delta interval rule both hosts share: occurrences at whole multiples of the interval since the epoch.</summary>
public sealed class DeltaScheduleTests
{
    private static readonly DateTimeOffset s_t0 = new(2026, 11, 30, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public void NextAtOrAfter_OnAndBetweenOccurrences_TheMultipleAtOrAfter()
    {
        var minute = TimeSpan.FromMinutes(1);

        Assert.Equal(s_t0, DeltaSchedule.NextAtOrAfter(minute, s_t0));
        Assert.Equal(s_t0.AddMinutes(1), DeltaSchedule.NextAtOrAfter(minute, s_t0.AddTicks(1)));
        Assert.Equal(s_t0.AddMinutes(5), DeltaSchedule.NextAtOrAfter(TimeSpan.FromMinutes(5), s_t0.AddMinutes(4).AddSeconds(59)));
    }

    [Fact]
    public void DueInSlot_MinuteTimer_OnlyClustersWithAnOccurrenceInTheSlot()
    {
        var options = Options(("every-minute", TimeSpan.FromMinutes(1)), ("every-five", TimeSpan.FromMinutes(5)), ("every-20s", TimeSpan.FromSeconds(20)), ("none", null));

        Assert.Equal(["every-20s", "every-five", "every-minute"], DeltaSchedule.DueInSlot(options, s_t0, TimeSpan.FromMinutes(1)));
        Assert.Equal(["every-20s", "every-minute"], DeltaSchedule.DueInSlot(options, s_t0.AddMinutes(1), TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void DueInSlot_NoInterval_NothingDue()
    {
        Assert.Empty(DeltaSchedule.DueInSlot(Options(("a", null)), s_t0, TimeSpan.FromMinutes(1)));
    }

    private static EtcdBackupOptions Options(params (string Name, TimeSpan? Interval)[] clusters)
    {
        var options = new EtcdBackupOptions();
        foreach (var (name, interval) in clusters)
        {
            options.Clusters[name] = new ClusterOptions { Endpoints = ["http://127.0.0.1:2379"], Deltas = new DeltaOptions { Interval = interval } };
        }

        return options;
    }
}
