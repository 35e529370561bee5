using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;

namespace EtcdServerless.Core.Scheduling;

/// <summary>How recent a cluster's newest backup is.</summary>
internal enum FreshnessState
{
    /// <summary>The newest backup is younger than the maximum age.</summary>
    Fresh,

    /// <summary>No backup, or the newest is older than the maximum age.</summary>
    Stale,

    /// <summary>No maximum age applies: the cluster has neither <c>MaxAge</c> nor a schedule.</summary>
    Unmonitored,
}

/// <summary>One cluster's freshness at <see cref="EvaluatedAt"/>.</summary>
internal sealed record ClusterFreshness
{
    public required string Cluster { get; init; }

    public required FreshnessState State { get; init; }

    public required DateTimeOffset EvaluatedAt { get; init; }

    public string? LastBackupId { get; init; }

    public DateTimeOffset? LastBackupTime { get; init; }

    public TimeSpan? Age { get; init; }

    public TimeSpan? MaxAge { get; init; }

    /// <summary>Where <see cref="MaxAge"/> came from: <c>MaxAge</c>, <c>2x schedule</c>, or null.</summary>
    public string? MaxAgeSource { get; init; }

    public string? Schedule { get; init; }

    public DateTimeOffset? NextScheduledRun { get; init; }

    /// <summary>Why the state is what it is, in a few words.</summary>
    public required string Reason { get; init; }
}

/// <summary>
/// Decides whether a cluster's newest backup is fresh: stale when there is none or when it is older than
/// <c>Clusters:C:MaxAge</c>, by default twice the interval of the cluster's NCRONTAB schedule (measured between
/// its next two occurrences, so uneven schedules use the gap that is coming).
/// </summary>
internal static class BackupFreshness
{
    public static ClusterFreshness Evaluate(string cluster, ClusterOptions options, BackupManifest? latest, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        DateTimeOffset? next = null;
        TimeSpan? maxAge = options.MaxAge;
        var source = maxAge is null ? null : "MaxAge";
        if (!string.IsNullOrWhiteSpace(options.Schedule))
        {
            var schedule = EtcdBackupOptionsValidator.TryParseSchedule(options.Schedule, out var error)
                ?? throw new ArgumentException($"Clusters:{cluster}:Schedule: {error}", nameof(options));
            var first = schedule.GetNextOccurrence(now.UtcDateTime);
            var second = schedule.GetNextOccurrence(first);
            next = new DateTimeOffset(DateTime.SpecifyKind(first, DateTimeKind.Utc));
            if (maxAge is null)
            {
                maxAge = 2 * (second - first);
                source = "2x schedule";
            }
        }

        var age = latest is null ? (TimeSpan?)null : now - latest.Created;
        var (state, reason) = (latest, maxAge) switch
        {
            (null, null) => (FreshnessState.Unmonitored, "no backup yet; no MaxAge or Schedule to judge by"),
            (null, _) => (FreshnessState.Stale, "no backup yet"),
            (_, null) => (FreshnessState.Unmonitored, "no MaxAge or Schedule to judge by"),
            _ when age > maxAge => (FreshnessState.Stale, $"newest backup is {Describe(age!.Value)} old, more than {Describe(maxAge!.Value)}"),
            _ => (FreshnessState.Fresh, $"newest backup is {Describe(age!.Value)} old, within {Describe(maxAge!.Value)}"),
        };

        return new ClusterFreshness
        {
            Cluster = cluster,
            State = state,
            EvaluatedAt = now,
            LastBackupId = latest?.BackupId,
            LastBackupTime = latest?.Created,
            Age = age,
            MaxAge = maxAge,
            MaxAgeSource = source,
            Schedule = string.IsNullOrWhiteSpace(options.Schedule) ? null : options.Schedule,
            NextScheduledRun = next,
            Reason = reason,
        };
    }

    /// <summary>A short human duration: <c>45s</c>, <c>12m</c>, <c>3h05m</c>, <c>2d04h</c>.</summary>
    public static string Describe(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        span = span.Duration();
        var text = span.TotalDays >= 1 ? FormattableString.Invariant($"{(int)span.TotalDays}d{span.Hours:00}h")
            : span.TotalHours >= 1 ? FormattableString.Invariant($"{(int)span.TotalHours}h{span.Minutes:00}m")
            : span.TotalMinutes >= 1 ? FormattableString.Invariant($"{(int)span.TotalMinutes}m{span.Seconds:00}s")
            : FormattableString.Invariant($"{(int)span.TotalSeconds}s");
        return negative ? "-" + text : text;
    }
}
