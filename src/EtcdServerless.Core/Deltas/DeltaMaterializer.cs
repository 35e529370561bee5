using System.Diagnostics;
using System.Globalization;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Etcd.Inspection;
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
/// Builds the snapshot of a cluster as it was at a revision (or time) between full backups: the newest full backup
/// at or before the target is restored with etcd's own tool into a throwaway loopback member, the delta segments
/// are replayed on it in revision order with one transaction per original revision (so every revision, create and
/// mod revision and version comes out identical, checked on each transaction), replay stops at the target, and the
/// member's snapshot is saved (0600). Replay starts strictly after the snapshot's exact revision (its bbolt revision,
/// not the one in the backup id) and skips what overlapping segments repeat. A damaged or missing segment stops
/// replay with the segment named. Everything in the scratch folder is removed on every path.
/// </summary>
internal sealed class DeltaMaterializer(IBackupStore store, IKeyStore keys, MaterializeOptions? options = null, ILogger? logger = null)
{
    /// <summary>Prefix of scratch folders, so leftovers of a killed process can be recognised.</summary>
    public const string FolderPrefix = "etcd-backup-materialize-";

    private const string MemberName = "materialize";

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

    /// <summary>Runs <paramref name="plan"/> and writes the snapshot to <paramref name="outputPath"/> (replaced when it exists).</summary>
    /// <exception cref="InvalidDataException">A backup or segment is damaged or missing (named), or replay diverged.</exception>
    public async Task<MaterializeResult> MaterializeAsync(MaterializePlan plan, string outputPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        outputPath = Path.GetFullPath(outputPath);
        var started = Stopwatch.StartNew();
        var scratch = ThrowawayEtcd.CreateScratchFolder(_options.TempDirectory, FolderPrefix);
        try
        {
            var (clientPort, peerPort) = ThrowawayEtcd.FreePorts();
            var dataDir = Path.Combine(scratch, "member-data");
            var peerUrl = $"http://127.0.0.1:{peerPort}";
            using (var snapshot = await DecryptedSnapshot.OpenAsync(store, keys, plan.Base, scratch, cancellationToken).ConfigureAwait(false))
            {
                var (error, _) = await ThrowawayEtcd.RestoreAsync(_options.Tools, snapshot.Path, dataDir, MemberName, peerUrl, _options.RestoreTimeout, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    throw new InvalidOperationException($"restoring full backup {plan.Base.BackupId} failed: {error}");
                }
            }

            // A replayed revision can be a transaction of many keys (a range delete): lift the per-transaction limits.
            var config = ThrowawayEtcd.MemberConfig(MemberName, dataDir, clientPort, peerUrl, Path.Combine(scratch, "etcd.log"), plan.Base.Snapshot.Size,
                ["--max-txn-ops", "1000000", "--max-request-bytes", (128 * 1024 * 1024).ToString(CultureInfo.InvariantCulture)]);
            var member = new EtcdProcess(config, _options.Tools.EtcdPath, _logger) { StopGrace = TimeSpan.FromSeconds(10) };
            await using (member.ConfigureAwait(false))
            {
                await member.StartAsync(cancellationToken).ConfigureAwait(false);
                await member.WaitHealthyAsync(_options.StartTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                var clientOptions = new EtcdClientOptions { Endpoint = new Uri(config.ClientUrl), DialTimeout = TimeSpan.FromSeconds(2), CallTimeout = TimeSpan.FromSeconds(60) };
                long revisions, events;
                using (var client = new EtcdClient(clientOptions, _logger))
                {
                    (revisions, events) = await ReplayAsync(plan, client, cancellationToken).ConfigureAwait(false);
                }

                await new SnapshotCapture(clientOptions, logger: _logger).CaptureAsync(SnapshotSourcePlan.FromEndpoints([clientOptions.Endpoint]), outputPath, cancellationToken: cancellationToken).ConfigureAwait(false);
                await member.StopAsync(cancellationToken).ConfigureAwait(false);
                var status = await SnapshotInspector.InspectAsync(outputPath, new SnapshotInspectionOptions { Trailer = SnapshotTrailerMode.Present }, cancellationToken).ConfigureAwait(false);
                if (status.Revision != plan.TargetRevision)
                {
                    File.Delete(outputPath);
                    throw new InvalidDataException($"the materialized snapshot is at revision {status.Revision}, not {plan.TargetRevision}");
                }

                _logger.Materialized(plan.Cluster, plan.TargetRevision, plan.Base.BackupId, plan.Segments.Count, revisions);
                return new MaterializeResult(plan, outputPath, status.Revision, revisions, events, new FileInfo(outputPath).Length, started.Elapsed);
            }
        }
        finally
        {
            try
            {
                ThrowawayEtcd.DeleteScratchFolder(scratch);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.MaterializeScratchNotRemoved(scratch, ex.Message);
            }
        }
    }

    private async Task<(long Revisions, long Events)> ReplayAsync(MaterializePlan plan, EtcdClient client, CancellationToken cancellationToken)
    {
        var applied = (await client.StatusAsync(cancellationToken).ConfigureAwait(false)).Header.Revision;
        if (applied != plan.Base.Snapshot.Revision)
        {
            throw new InvalidDataException($"full backup {plan.Base.BackupId} restored at revision {applied}, but its manifest records revision {plan.Base.Snapshot.Revision}");
        }

        var deltas = new DeltaCatalog(store, keys);
        var leases = new HashSet<long>();
        long revisions = 0, events = 0;
        foreach (var segment in plan.Segments)
        {
            if (applied >= plan.TargetRevision)
            {
                break;
            }

            if (segment.ToRevision <= applied)
            {
                continue;
            }

            await foreach (var revision in deltas.ReadAsync(segment, cancellationToken).ConfigureAwait(false))
            {
                if (revision.Revision <= applied)
                {
                    // Overlap with the snapshot or the previous segment: already applied.
                    continue;
                }

                if (revision.Revision > plan.TargetRevision)
                {
                    break;
                }

                if (revision.Revision != applied + 1)
                {
                    throw new InvalidDataException($"segment {segment.SegmentId} ({segment.Artifact.Name}) lacks revision {applied + 1} (its next revision is {revision.Revision})");
                }

                await EnsureLeasesAsync(client, revision, leases, cancellationToken).ConfigureAwait(false);
                var got = await client.ApplyRevisionAsync(revision.Events, cancellationToken).ConfigureAwait(false);
                if (got != revision.Revision)
                {
                    throw new InvalidDataException(
                        $"replaying revision {revision.Revision} of segment {segment.SegmentId} produced revision {got}: the throwaway member changed on its own (a lease of the full backup expired during replay?)");
                }

                applied = got;
                revisions++;
                events += revision.Events.Count;
                if (applied == plan.TargetRevision)
                {
                    break;
                }
            }
        }

        if (applied != plan.TargetRevision)
        {
            throw new InvalidDataException($"replay ended at revision {applied}, before the target {plan.TargetRevision}: the segments of the chain ({plan.Describe()}) do not reach it");
        }

        return (revisions, events);
    }

    private async Task EnsureLeasesAsync(EtcdClient client, EtcdRevisionEvents revision, HashSet<long> leases, CancellationToken cancellationToken)
    {
        foreach (var e in revision.Events)
        {
            var lease = e.Kv.Lease;
            if (e.IsDelete || lease == 0 || !leases.Add(lease))
            {
                continue;
            }

            try
            {
                // Lease grants are not revisions, so recreating one keeps the revision sequence intact.
                await client.LeaseGrantAsync((long)_options.RecreatedLeaseTtl.TotalSeconds, lease, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException ex) when (ex.ServerMessage.Contains("lease already exists", StringComparison.OrdinalIgnoreCase))
            {
                // Held by the full backup: it keeps its own TTL.
            }
        }
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
