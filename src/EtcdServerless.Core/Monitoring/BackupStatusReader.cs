using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Scheduling;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Monitoring;

/// <summary>One cluster's state as the store shows it: freshness, newest backup, newest failure, newest drill.</summary>
internal sealed record ClusterStatus
{
    public required ClusterFreshness Freshness { get; init; }

    /// <summary>The newest readable backup, or null.</summary>
    public BackupManifest? LastBackup { get; init; }

    /// <summary>The newest failure record (see <see cref="BackupFailureRecords.LookBackMonths"/>), or null.</summary>
    public BackupFailureRecord? LastFailure { get; init; }

    /// <summary>The newest drill of any backup of the cluster, or null.</summary>
    public DrillResult? LastDrill { get; init; }

    /// <summary>The newest delta segment, or null (no continuous protection, or none captured yet).</summary>
    public DeltaManifest? LastDelta { get; init; }

    /// <summary>Age of the newest captured revision (the achieved RPO of continuous protection), or null without segments.</summary>
    public TimeSpan? DeltaLag { get; init; }

    /// <summary>True when the newest failure is newer than the newest backup: the cluster is failing now.</summary>
    public bool FailingSinceLastSuccess => LastFailure is { } failure && (LastBackup is null || failure.Failed > LastBackup.Created);

    /// <summary>Records that could not be read (damaged), named; the status is still given.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}

/// <summary>
/// Reads <see cref="ClusterStatus"/> from the store: what <c>backup status</c> prints and the freshness monitor feeds
/// to <see cref="BackupMetrics"/>. Only reads; a few listings and reads per cluster.
/// </summary>
internal sealed class BackupStatusReader(IBackupStore store, EtcdBackupOptions options, TimeProvider time)
{
    /// <summary>The status of <paramref name="cluster"/> now.</summary>
    public async Task<ClusterStatus> ReadAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var settings = options.GetCluster(cluster);
        var catalog = new BackupCatalog(store, time);
        var latest = await catalog.GetLatestAsync(cluster, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var problems = new List<string>();

        BackupFailureRecord? failure = null;
        try
        {
            failure = await BackupFailureRecords.GetLatestAsync(store, cluster, now, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
        }

        DrillResult? drill = null;
        try
        {
            var drills = await DrillRecords.GetLatestByBackupAsync(store, cluster, cancellationToken).ConfigureAwait(false);
            drill = drills.Values.MaxBy(d => d.Started);
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
        }

        DeltaManifest? delta = null;
        try
        {
            delta = await DeltaCatalog.GetNewestAsync(store, cluster, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
        }

        return new ClusterStatus
        {
            Freshness = BackupFreshness.Evaluate(cluster, settings, latest, now),
            LastBackup = latest,
            LastFailure = failure,
            LastDrill = drill,
            LastDelta = delta,
            DeltaLag = delta is null ? null : now - delta.Captured,
            Problems = problems,
        };
    }
}
