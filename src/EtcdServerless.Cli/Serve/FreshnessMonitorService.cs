using EtcdServerless.Core.Monitoring;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// Keeps the per-cluster gauges (<see cref="BackupMetrics"/>) in step with the store: at start and every
/// <see cref="Interval"/>, the same status <c>backup status</c> prints is read for each cluster and observed. So
/// <c>/metrics</c> shows backups made by another host (a cron job, the Function App), drills, and staleness that sets
/// in while nothing runs, and a restarted <c>serve</c> does not start blank.
/// </summary>
internal sealed class FreshnessMonitorService(
    BackupStatusReader reader,
    BackupMetrics metrics,
    IReadOnlyList<string> clusters,
    TimeProvider time,
    ILogger<FreshnessMonitorService> logger) : BackgroundService
{
    /// <summary>How often the store is read (a few listings per cluster).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var cluster in clusters)
            {
                try
                {
                    metrics.Observe(await reader.ReadAsync(cluster, stoppingToken).ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The gauges keep their last values; the next round tries again.
                    logger.FreshnessUnreadable(cluster, ex);
                }
            }

            await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
        }
    }
}
