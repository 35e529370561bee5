using System.Globalization;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Deltas;

/// <summary>Settings of a materialization.</summary>
internal sealed record MaterializeOptions
{
    /// <summary>etcd, etcdutl and etcdctl.</summary>
    public EtcdToolPaths Tools { get; init; } = new();

    /// <summary>Where the scratch folder is made (the system temp folder by default).</summary>
    public string? TempDirectory { get; init; }

    /// <summary>How long <c>snapshot restore</c> may take.</summary>
    public TimeSpan RestoreTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the throwaway member has to report healthy.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// TTL given to leases that puts refer to but the full backup does not hold (granted after it). The original TTL is
    /// not in the watch history, so it is not preserved (docs/format.md).
    /// </summary>
    public TimeSpan RecreatedLeaseTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Put the throwaway member's data dir in memory when the host has room to spare (<see cref="ReplayMemberPlacement"/>):
    /// replay then runs about twice as fast. Agents turn this off: their host runs a live member.
    /// </summary>
    public bool MemberInMemory { get; init; } = true;

    /// <summary>The tmpfs for <see cref="MemberInMemory"/> (<c>/dev/shm</c> by default).</summary>
    public string? MemoryDirectory { get; init; }
}

/// <summary>What a materialization will use: the full backup and the segments replayed on it, up to the target revision.</summary>
/// <param name="Cluster">The cluster.</param>
/// <param name="TargetRevision">The revision the result ends at.</param>
/// <param name="Base">The newest full backup whose exact snapshot revision is at or before the target.</param>
/// <param name="Segments">The segments replayed, in order; together they cover every revision after the base's up to the target.</param>
/// <param name="TargetTime">The time asked for, when the target was given as a time.</param>
/// <param name="KnownBy">
/// The earliest capture (a segment's capture time, a full backup's start) holding a revision at or after the target:
/// the cluster was past the target by then. A point-in-time backup is named with this time less a millisecond, so it
/// never sorts after a backup of a newer state.
/// </param>
internal sealed record MaterializePlan(string Cluster, long TargetRevision, BackupManifest Base, IReadOnlyList<DeltaManifest> Segments, DateTimeOffset? TargetTime = null, DateTimeOffset? KnownBy = null)
{
    /// <summary>One line: the chain, full backup id then segment ids.</summary>
    public string Describe() =>
        Segments.Count == 0
            ? $"full backup {Base.BackupId} (revision {Base.Snapshot.Revision}) as is"
            : $"full backup {Base.BackupId} (revision {Base.Snapshot.Revision}) + {string.Join(", ", Segments.Select(s => s.SegmentId))} up to revision {TargetRevision}";
}

/// <summary>A materialized snapshot.</summary>
internal sealed record MaterializeResult(MaterializePlan Plan, string Path, long Revision, long RevisionsReplayed, long EventsReplayed, long Size, TimeSpan Duration);

/// <summary>
/// Builds the snapshot of a cluster as it was at a revision (or time) between full backups: plans the chain (the
/// newest full backup at or before the target, then the delta segments that reach it) and, on a host with etcd,
/// replays it from the store with <see cref="DeltaReplayer"/> (restore into a throwaway loopback member, one
/// transaction per original revision, snapshot saved 0600). Where etcd cannot run, an agent
/// runs the same replay on a member's agent. A damaged or missing segment stops replay with the segment named.
/// </summary>
internal sealed class DeltaMaterializer(IBackupStore store, IKeyStore keys, MaterializeOptions? options = null, ILogger? logger = null)
{
    /// <summary>Prefix of scratch folders, so leftovers of a killed process can be recognised.</summary>
    public const string FolderPrefix = "etcd-backup-materialize-";

    private readonly MaterializeOptions _options = options ?? new MaterializeOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>
    /// Chooses the full backup and segments for a target revision or time. A time maps to the newest revision known to
    /// exist at that time: a segment's last revision at its capture time, a full backup's revision once it completed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing covers the target (no full backup before it, a gap, or beyond the newest capture).</exception>
    public async Task<MaterializePlan> PlanAsync(string cluster, long? toRevision, DateTimeOffset? toTime, CancellationToken cancellationToken = default)
    {
        if (toRevision is null == toTime is null)
        {
            throw new ArgumentException("give exactly one of a target revision or a target time");
        }

        var backups = await new BackupCatalog(store).ListAsync(cluster, cancellationToken).ConfigureAwait(false);
        var segments = await new DeltaCatalog(store, keys).ListAsync(cluster, cancellationToken).ConfigureAwait(false);
        long target;
        if (toRevision is { } revision)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(revision, 1, nameof(toRevision));
            target = revision;
        }
        else
        {
            var time = toTime!.Value;
            var known = segments.Where(s => s.Captured <= time).Select(s => s.ToRevision)
                .Concat(backups.Where(b => b.Created + b.Durations.Total <= time).Select(b => b.Snapshot.Revision))
                .DefaultIfEmpty(0).Max();
            if (known == 0)
            {
                throw new InvalidOperationException($"cluster '{cluster}' has nothing captured at or before {Format(time)}");
            }

            target = known;
        }

        var full = backups.Where(b => b.Snapshot.Revision <= target).MaxBy(b => b.Snapshot.Revision)
            ?? throw new InvalidOperationException(backups.Count == 0
                ? $"cluster '{cluster}' has no full backup"
                : $"cluster '{cluster}' has no full backup at or before revision {target} (the oldest is at revision {backups.Min(b => b.Snapshot.Revision)})");
        var chain = new List<DeltaManifest>();
        var covered = full.Snapshot.Revision;
        while (covered < target)
        {
            // Of the segments that continue the coverage (overlap allowed), the one reaching furthest.
            var next = segments.Where(s => s.FromRevision <= covered + 1 && s.ToRevision > covered).MaxBy(s => s.ToRevision);
            if (next is null)
            {
                var newest = segments.Count == 0 ? 0 : segments.Max(s => s.ToRevision);
                var after = segments.Where(s => s.FromRevision > covered + 1).MinBy(s => s.FromRevision);
                throw new InvalidOperationException(newest <= covered && after is null
                    ? $"revision {target} of cluster '{cluster}' is beyond what was captured (up to revision {Math.Max(newest, covered)}): run backup deltas first"
                    : $"cluster '{cluster}' has no segment holding revision {covered + 1} (gap before {after?.SegmentId ?? "the newest segment"}): revision {target} cannot be rebuilt from full backup {full.BackupId}");
            }

            chain.Add(next);
            covered = next.ToRevision;
        }

        var knownBy = segments.Where(s => s.ToRevision >= target).Select(s => s.Captured)
            .Concat(backups.Where(b => b.Snapshot.Revision >= target).Select(b => b.Created))
            .DefaultIfEmpty(chain.Count > 0 ? chain[^1].Captured : full.Created).Min();
        return new MaterializePlan(cluster, target, full, chain, toTime, knownBy);
    }

    /// <summary>Runs <paramref name="plan"/> here (etcd must be installed) and writes the snapshot to <paramref name="outputPath"/> (replaced when it exists).</summary>
    /// <exception cref="InvalidDataException">A backup or segment is damaged or missing (named), or replay diverged.</exception>
    public async Task<MaterializeResult> MaterializeAsync(MaterializePlan plan, string outputPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        outputPath = Path.GetFullPath(outputPath);
        var replayed = await new DeltaReplayer(_options, _logger).RunAsync(ReplayTarget.From(plan), new StoreReplaySource(store, keys, plan), outputPath, cancellationToken).ConfigureAwait(false);
        return new MaterializeResult(plan, outputPath, replayed.Revision, replayed.RevisionsReplayed, replayed.EventsReplayed, replayed.Size, replayed.Duration);
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
