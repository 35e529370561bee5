using EtcdServerless.Core.Configuration;
using NCrontab;

namespace EtcdServerless.Core.Scheduling;

/// <summary>
/// Decides when each cluster's scheduled backup is due, from its NCRONTAB schedule (UTC, six fields, as Azure
/// Functions timers). Missed occurrences are never stacked: after downtime or a long run, a cluster is due once,
/// and its next occurrence is computed from now, not from the missed one.
/// </summary>
/// <remarks>Not thread-safe: one scheduling loop owns it.</remarks>
public sealed class BackupScheduler
{
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Creates a scheduler for the clusters that have a schedule; the others are on demand only.</summary>
    /// <param name="schedules">Cluster name to NCRONTAB expression (null or empty = no schedule).</param>
    /// <param name="time">The clock.</param>
    /// <exception cref="ArgumentException">An expression is not valid NCRONTAB (validate the configuration first).</exception>
    public BackupScheduler(IEnumerable<KeyValuePair<string, string?>> schedules, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(schedules);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        var now = time.GetUtcNow();
        foreach (var (cluster, expression) in schedules)
        {
            if (string.IsNullOrWhiteSpace(expression))
            {
                continue;
            }

            var schedule = EtcdBackupOptionsValidator.TryParseSchedule(expression, out var error)
                ?? throw new ArgumentException($"Clusters:{cluster}:Schedule: {error}", nameof(schedules));
            _entries[cluster] = new Entry(schedule) { NextDue = Next(schedule, now) };
        }
    }

    /// <summary>The clusters that have a schedule, in name order.</summary>
    public IReadOnlyList<string> Clusters => [.. _entries.Keys.Order(StringComparer.Ordinal)];

    /// <summary>
    /// Tells the scheduler when the cluster was last backed up (e.g. the newest manifest in the catalog), so an
    /// occurrence missed while nothing was running is caught up once at start.
    /// </summary>
    public void SetLastRun(string cluster, DateTimeOffset lastRun)
    {
        if (_entries.TryGetValue(cluster, out var entry))
        {
            entry.NextDue = Next(entry.Schedule, lastRun);
        }
    }

    /// <summary>When the cluster is next due, or null when it has no schedule.</summary>
    public DateTimeOffset? NextDue(string cluster) =>
        _entries.TryGetValue(cluster, out var entry) ? entry.NextDue : null;

    /// <summary>
    /// Returns the clusters due now (each at most once, in name order) and moves each one's next occurrence past
    /// the current time, so occurrences missed meanwhile are dropped, not queued.
    /// </summary>
    public IReadOnlyList<string> TakeDue()
    {
        var now = _time.GetUtcNow();
        var due = new List<string>();
        foreach (var (cluster, entry) in _entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (entry.NextDue <= now)
            {
                due.Add(cluster);
                entry.NextDue = Next(entry.Schedule, now);
            }
        }

        return due;
    }

    /// <summary>How long until the earliest cluster is due (zero when one is due now); null when nothing is scheduled.</summary>
    public TimeSpan? DelayUntilNextDue()
    {
        if (_entries.Count == 0)
        {
            return null;
        }

        var earliest = _entries.Values.Min(e => e.NextDue);
        var delay = earliest - _time.GetUtcNow();
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }

    /// <summary>
    /// The clusters with an occurrence in [<paramref name="slotStart"/>, <paramref name="slotStart"/> +
    /// <paramref name="slotLength"/>): the rule of a timer that fires once per slot (the Function App's minute timer),
    /// over the same NCRONTAB parsing as the long-running scheduler.
    /// </summary>
    public IReadOnlyList<string> DueInSlot(DateTimeOffset slotStart, TimeSpan slotLength) =>
        [.. _entries.Where(e => Next(e.Value.Schedule, slotStart.AddTicks(-1)) < slotStart + slotLength).Select(e => e.Key).Order(StringComparer.Ordinal)];

    private static DateTimeOffset Next(CrontabSchedule schedule, DateTimeOffset after)
    {
        var next = schedule.GetNextOccurrence(after.UtcDateTime);
        return new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc));
    }

    private sealed class Entry(CrontabSchedule schedule)
    {
        public CrontabSchedule Schedule { get; } = schedule;

        public DateTimeOffset NextDue { get; set; }
    }
}
