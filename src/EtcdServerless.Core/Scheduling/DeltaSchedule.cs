using EtcdServerless.Core.Configuration;

namespace EtcdServerless.Core.Scheduling;

/// <summary>
/// When delta captures are due: each cluster with <c>Clusters:C:Deltas:Interval</c> has an occurrence at every whole
/// multiple of its interval since the Unix epoch (UTC), so every host (the Function App's minute timer, <c>serve</c>)
/// agrees on the instants without sharing state, and a restart neither skips nor doubles a run.
/// </summary>
public static class DeltaSchedule
{
    /// <summary>The clusters that have an interval, with it, in name order.</summary>
    public static IReadOnlyList<(string Cluster, TimeSpan Interval)> Intervals(EtcdBackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return [.. options.Clusters
            .Where(c => c.Value.Deltas?.Interval is { } i && i > TimeSpan.Zero)
            .Select(c => (c.Key, c.Value.Deltas.Interval!.Value))
            .OrderBy(c => c.Key, StringComparer.Ordinal)];
    }

    /// <summary>The first occurrence at or after <paramref name="time"/>.</summary>
    public static DateTimeOffset NextAtOrAfter(TimeSpan interval, DateTimeOffset time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var ticks = (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks + interval.Ticks - 1) / interval.Ticks * interval.Ticks;
        return DateTimeOffset.UnixEpoch.AddTicks(ticks);
    }

    /// <summary>The clusters with an occurrence in [<paramref name="slotStart"/>, <paramref name="slotStart"/> + <paramref name="slotLength"/>).</summary>
    public static IReadOnlyList<string> DueInSlot(EtcdBackupOptions options, DateTimeOffset slotStart, TimeSpan slotLength) =>
        [.. Intervals(options).Where(c => NextAtOrAfter(c.Interval, slotStart) < slotStart + slotLength).Select(c => c.Cluster)];
}
