using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Scheduling;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The timer triggers of <c>serve</c>: waits for the next due cluster (<see cref="BackupScheduler"/>), starts its
/// backup orchestration through the runner (joining a running one rather than stacking) and goes back to sleep.
/// </summary>
internal sealed class ScheduledBackupService(BackupApplication application, TimeProvider time, ILogger<ScheduledBackupService> logger) : BackgroundService
{
    // Re-check at least this often, so a clock change or a suspended machine is noticed.
    private static readonly TimeSpan s_maxSleep = TimeSpan.FromMinutes(1);

    public BackupScheduler Scheduler { get; } = new(application.Options.Clusters.Select(c => new KeyValuePair<string, string?>(c.Key, c.Value.Schedule)), time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var cluster in Scheduler.Clusters)
        {
            try
            {
                var latest = await application.Catalog.GetLatestAsync(cluster, stoppingToken).ConfigureAwait(false);
                if (latest is not null)
                {
                    Scheduler.SetLastRun(cluster, latest.Created);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.CatalogUnavailable(cluster, ex);
            }

            if (Scheduler.NextDue(cluster) is { } next)
            {
                logger.NextScheduledBackup(cluster, next);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = Scheduler.DelayUntilNextDue();
            if (delay is null)
            {
                return;
            }

            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay.Value < s_maxSleep ? delay.Value : s_maxSleep, time, stoppingToken).ConfigureAwait(false);
                continue;
            }

            foreach (var cluster in Scheduler.TakeDue())
            {
                try
                {
                    var started = await application.StartBackupAsync(cluster, BackupTrigger.Scheduled, stoppingToken).ConfigureAwait(false);
                    logger.ScheduledBackupStarting(cluster, started.InstanceId, started.Deduplicated ? " (already running: joined, not stacked)" : "");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.ScheduledBackupFailedToStart(cluster, ex);
                }
            }
        }
    }
}
