using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Scheduling;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The delta timer of <c>serve</c>: at each occurrence of a cluster's <c>Deltas:Interval</c>
/// (<see cref="DeltaSchedule"/>) it starts the delta orchestration through the gateway, which joins a run still
/// going instead of stacking a second one.
/// </summary>
internal sealed class ScheduledDeltaService(BackupApplication application, TimeProvider time, ILogger<ScheduledDeltaService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var intervals = DeltaSchedule.Intervals(application.Options);
        if (intervals.Count == 0)
        {
            return;
        }

        var next = intervals.ToDictionary(c => c.Cluster, c => DeltaSchedule.NextAtOrAfter(c.Interval, time.GetUtcNow()), StringComparer.Ordinal);
        while (!stoppingToken.IsCancellationRequested)
        {
            var earliest = next.Values.Min();
            var delay = earliest - time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay < TimeSpan.FromMinutes(1) ? delay : TimeSpan.FromMinutes(1), time, stoppingToken).ConfigureAwait(false);
                continue;
            }

            var now = time.GetUtcNow();
            foreach (var (cluster, interval) in intervals.Where(c => next[c.Cluster] <= now))
            {
                // Occurrences missed meanwhile are dropped, not queued: the next run captures everything since the last one.
                next[cluster] = DeltaSchedule.NextAtOrAfter(interval, now.AddTicks(1));
                try
                {
                    var started = await application.Gateway.StartDeltasAsync(cluster, stoppingToken).ConfigureAwait(false);
                    logger.ScheduledDeltasStarting(cluster, started.InstanceId, started.Deduplicated ? " (already running: joined, not stacked)" : "");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.ScheduledDeltasFailedToStart(cluster, ex);
                }
            }
        }
    }
}
