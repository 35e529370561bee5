using System.Globalization;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;

namespace EtcdServerless.Core.Retention;

/// <summary>
/// Decides which backups to keep: the newest <c>KeepLast</c>, the newest backup of each of the most recent
/// <c>Hourly</c> hours, <c>Daily</c> days, <c>Weekly</c> ISO weeks and <c>Monthly</c> months that have
/// backups (grandfather-father-son, all in UTC). <c>MaxAgeDays</c> then caps them all: a backup created
/// before now minus that many days is deleted whatever count or tier chose it. Last, two safety rules that
/// no option can turn off, not even the age cap: the newest verified backup is kept, and so is the last
/// good backup before a key-count drop.
/// </summary>
internal sealed class RetentionPolicy
{
    private readonly RetentionOptions _options;
    private readonly TimeProvider _timeProvider;

    public RetentionPolicy(RetentionOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.KeepLast < 0 || options.Hourly < 0 || options.Daily < 0 || options.Weekly < 0 || options.Monthly < 0 || options.MaxAgeDays < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Retention counts and MaxAgeDays cannot be negative.");
        }

        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Plans the fate of each backup. The input order does not matter; the plan is newest first.</summary>
    public RetentionPlan Plan(IEnumerable<BackupManifest> backups)
    {
        ArgumentNullException.ThrowIfNull(backups);
        var ordered = backups
            .OrderByDescending(b => b.Created)
            .ThenByDescending(b => b.BackupId, StringComparer.Ordinal)
            .ToList();
        var reasons = ordered.ToDictionary(b => b.BackupId, _ => new List<string>(), StringComparer.Ordinal);

        for (var i = 0; i < Math.Min(_options.KeepLast, ordered.Count); i++)
        {
            reasons[ordered[i].BackupId].Add($"keep-last {i + 1}/{_options.KeepLast}");
        }

        KeepNewestPerBucket(ordered, reasons, _options.Hourly, "hourly", t => t.ToString("yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture));
        KeepNewestPerBucket(ordered, reasons, _options.Daily, "daily", t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        KeepNewestPerBucket(ordered, reasons, _options.Weekly, "weekly", t =>
            string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(t)}-W{ISOWeek.GetWeekOfYear(t):D2}"));
        KeepNewestPerBucket(ordered, reasons, _options.Monthly, "monthly", t => t.ToString("yyyy-MM", CultureInfo.InvariantCulture));

        var expired = new HashSet<string>(StringComparer.Ordinal);
        if (_options.MaxAgeDays > 0)
        {
            var cutoff = _timeProvider.GetUtcNow() - TimeSpan.FromDays(_options.MaxAgeDays);
            foreach (var backup in ordered.Where(b => b.Created < cutoff))
            {
                expired.Add(backup.BackupId);
                reasons[backup.BackupId].Clear();
            }
        }

        var newestVerified = ordered.FirstOrDefault(b => b.Flags.Verified);
        if (newestVerified is not null)
        {
            reasons[newestVerified.BackupId].Add("newest verified backup");
        }

        var dropGuards = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ordered.Count; i++)
        {
            if (!ordered[i].Flags.KeyCountDropped)
            {
                continue;
            }

            // The nearest older backup without the flag is the last one taken before the keys went missing.
            var lastGood = ordered.Skip(i + 1).FirstOrDefault(b => !b.Flags.KeyCountDropped);
            if (lastGood is not null)
            {
                reasons[lastGood.BackupId].Add($"last good backup before the key-count drop in {ordered[i].BackupId}");
                dropGuards.Add(lastGood.BackupId);
            }
        }

        return new RetentionPlan([.. ordered.Select(b =>
        {
            var why = reasons[b.BackupId];
            return why.Count > 0
                ? new RetentionDecision(b, Keep: true, why) { GuardsKeyCountDrop = dropGuards.Contains(b.BackupId) }
                : new RetentionDecision(b, Keep: false, [expired.Contains(b.BackupId)
                    ? string.Create(CultureInfo.InvariantCulture, $"older than max-age {_options.MaxAgeDays} days")
                    : "outside the retention policy"]);
        })]);
    }

    private static void KeepNewestPerBucket(
        List<BackupManifest> ordered, Dictionary<string, List<string>> reasons, int count, string tier, Func<DateTime, string> bucketOf)
    {
        if (count == 0)
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var backup in ordered)
        {
            var bucket = bucketOf(backup.Created.UtcDateTime);
            if (seen.Add(bucket))
            {
                reasons[backup.BackupId].Add($"{tier} {bucket}");
                if (seen.Count == count)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>The fate of every backup of a cluster, newest first.</summary>
internal sealed record RetentionPlan(IReadOnlyList<RetentionDecision> Decisions)
{
    public IEnumerable<RetentionDecision> ToKeep => Decisions.Where(d => d.Keep);

    public IEnumerable<RetentionDecision> ToDelete => Decisions.Where(d => !d.Keep);
}

/// <summary>Keep or delete one backup, and why.</summary>
internal sealed record RetentionDecision(BackupManifest Backup, bool Keep, IReadOnlyList<string> Reasons)
{
    public string BackupId => Backup.BackupId;

    /// <summary>
    /// Kept as the last good backup before a key-count drop: the one copy that still holds the keys that went
    /// missing, so the backup run reports it as protected.
    /// </summary>
    public bool GuardsKeyCountDrop { get; init; }
}
