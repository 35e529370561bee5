using System.Diagnostics.Metrics;

namespace EtcdServerless.Core.Monitoring;

/// <summary>
/// The product's metrics: one <see cref="Meter"/> (<see cref="MeterName"/>), instruments named in
/// docs/operations.md ("Watch freshness"). Events (a backup succeeded or failed) are recorded by the backup
/// orchestration's outcome step; the per-cluster gauges report the newest of what this process saw and what the
/// store says (<see cref="Observe"/>, fed by the freshness monitor), so a restart or a backup run by another host
/// (a cron job, the Function App) still shows. Prometheus (<c>serve</c>'s <c>/metrics</c>) and Application Insights
/// (the Function App) export the same instruments.
/// </summary>
internal sealed class BackupMetrics : IDisposable
{
    /// <summary>The meter every exporter subscribes to.</summary>
    public const string MeterName = "EtcdServerless";

    /// <summary>Unix time (s) of the newest successful backup (its manifest's creation), per cluster.</summary>
    public const string LastSuccessTimestamp = "etcd_backup.last_success_timestamp";

    /// <summary>Wall time (s) of each backup, tags cluster and outcome (succeeded, failed).</summary>
    public const string Duration = "etcd_backup.duration";

    /// <summary>Size (bytes) of the newest successful backup's artifact (compressed, encrypted), per cluster.</summary>
    public const string ArtifactSize = "etcd_backup.artifact_size";

    /// <summary>Failed backups counted by this process, tags cluster and phase.</summary>
    public const string Failures = "etcd_backup.failures";

    /// <summary>Unix time (s) of the newest failed backup (its failure record), per cluster.</summary>
    public const string LastFailureTimestamp = "etcd_backup.last_failure_timestamp";

    /// <summary>1 when the cluster's newest backup is older than its maximum age (or missing), else 0; monitored clusters only.</summary>
    public const string Stale = "etcd_backup.stale";

    /// <summary>Unix time (s) the newest restore drill of the cluster started.</summary>
    public const string DrillLastTimestamp = "etcd_backup.drill.last_timestamp";

    /// <summary>1 when the newest restore drill of the cluster passed, 0 when it failed.</summary>
    public const string DrillLastPassed = "etcd_backup.drill.last_passed";

    /// <summary>Unix time (s) of the newest delta segment's capture (continuous protection), per cluster.</summary>
    public const string DeltaLastCaptureTimestamp = "etcd_backup.delta.last_capture_timestamp";

    /// <summary>The tag every instrument carries.</summary>
    public const string ClusterTag = "cluster";

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _failures;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ClusterObservation> _clusters = new(StringComparer.Ordinal);

    public BackupMetrics()
    {
        _meter = new Meter(MeterName, typeof(BackupMetrics).Assembly.GetName().Version?.ToString());
        _meter.CreateObservableGauge(LastSuccessTimestamp, () => Gauge<double>(o => o.LastSuccess is { } t ? t.ToUnixTimeMilliseconds() / 1000.0 : null), "s",
            "Unix time of the newest successful backup (manifest creation), per cluster.");
        _meter.CreateObservableGauge(ArtifactSize, () => Gauge(o => o.ArtifactSize), "By",
            "Size of the newest successful backup's artifact (compressed, encrypted), per cluster.");
        _meter.CreateObservableGauge(LastFailureTimestamp, () => Gauge<double>(o => o.LastFailure is { } t ? t.ToUnixTimeMilliseconds() / 1000.0 : null), "s",
            "Unix time of the newest failed backup, per cluster.");
        _meter.CreateObservableGauge(Stale, () => Gauge(o => o.Stale is { } s ? (s ? 1 : 0) : (int?)null), null,
            "1 when the cluster's newest backup is older than its maximum age (or missing), else 0.");
        _meter.CreateObservableGauge(DrillLastTimestamp, () => Gauge<double>(o => o.DrillStarted is { } t ? t.ToUnixTimeMilliseconds() / 1000.0 : null), "s",
            "Unix time the newest restore drill started, per cluster.");
        _meter.CreateObservableGauge(DrillLastPassed, () => Gauge(o => o.DrillPassed is { } p ? (p ? 1 : 0) : (int?)null), null,
            "1 when the newest restore drill passed, 0 when it failed, per cluster.");
        _meter.CreateObservableGauge(DeltaLastCaptureTimestamp, () => Gauge<double>(o => o.DeltaCaptured is { } t ? t.ToUnixTimeMilliseconds() / 1000.0 : null), "s",
            "Unix time the newest delta segment was captured, per cluster: now minus this is the achieved RPO.");
        _duration = _meter.CreateHistogram<double>(Duration, "s", "Wall time of each backup, by cluster and outcome.");
        _failures = _meter.CreateCounter<long>(Failures, null, "Failed backups, by cluster and phase.");
    }

    /// <summary>A backup committed its manifest.</summary>
    public void BackupSucceeded(string cluster, DateTimeOffset created, TimeSpan duration, long artifactSize)
    {
        _duration.Record(duration.TotalSeconds, Tag(cluster), new KeyValuePair<string, object?>("outcome", "succeeded"));
        // A monitored cluster that just backed up is fresh; the monitor's next read confirms it against the store.
        Update(cluster, o => o.LastSuccess is { } t && t >= created ? o : o with { LastSuccess = created, ArtifactSize = artifactSize, Stale = o.Stale is null ? null : false });
    }

    /// <summary>A backup failed in <paramref name="phase"/>.</summary>
    public void BackupFailed(string cluster, string phase, DateTimeOffset failed, TimeSpan duration)
    {
        _duration.Record(duration.TotalSeconds, Tag(cluster), new KeyValuePair<string, object?>("outcome", "failed"));
        _failures.Add(1, Tag(cluster), new KeyValuePair<string, object?>("phase", phase));
        Update(cluster, o => o.LastFailure is { } t && t >= failed ? o : o with { LastFailure = failed });
    }

    /// <summary>What the store says about a cluster (the freshness monitor); newer events this process saw are kept.</summary>
    public void Observe(ClusterStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var freshness = status.Freshness;
        Update(freshness.Cluster, o =>
        {
            var next = o with { Stale = freshness.State switch { Scheduling.FreshnessState.Stale => true, Scheduling.FreshnessState.Fresh => false, _ => null } };
            if (status.LastBackup is { } backup && (next.LastSuccess is not { } seen || backup.Created >= seen))
            {
                next = next with { LastSuccess = backup.Created, ArtifactSize = backup.Artifact.Size };
            }

            if (status.LastFailure is { } failure && (next.LastFailure is not { } failed || failure.Failed > failed))
            {
                next = next with { LastFailure = failure.Failed };
            }

            if (status.LastDelta is { } delta)
            {
                next = next with { DeltaCaptured = delta.Captured };
            }

            return status.LastDrill is { } drill ? next with { DrillStarted = drill.Started, DrillPassed = drill.Passed } : next;
        });
    }

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> Tag(string cluster) => new(ClusterTag, cluster);

    private void Update(string cluster, Func<ClusterObservation, ClusterObservation> change)
    {
        lock (_lock)
        {
            _clusters[cluster] = change(_clusters.TryGetValue(cluster, out var current) ? current : new ClusterObservation());
        }
    }

    private List<Measurement<T>> Gauge<T>(Func<ClusterObservation, T?> value)
        where T : struct
    {
        lock (_lock)
        {
            var measurements = new List<Measurement<T>>(_clusters.Count);
            foreach (var (cluster, observation) in _clusters)
            {
                if (value(observation) is { } v)
                {
                    measurements.Add(new Measurement<T>(v, Tag(cluster)));
                }
            }

            return measurements;
        }
    }

    private sealed record ClusterObservation
    {
        public DateTimeOffset? LastSuccess { get; init; }

        public long? ArtifactSize { get; init; }

        public DateTimeOffset? LastFailure { get; init; }

        public bool? Stale { get; init; }

        public DateTimeOffset? DrillStarted { get; init; }

        public bool? DrillPassed { get; init; }

        public DateTimeOffset? DeltaCaptured { get; init; }
    }
}
