using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Scheduling;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The drill schedules of <c>serve</c> (<c>Clusters:C:Drill:Schedule</c>, the same <see cref="BackupScheduler"/> rule as
/// backups): when a cluster is due, a drill of its latest backup starts through the gateway (one per cluster; a
/// running one is joined, not stacked). The drill runs on the cluster's agent when one is configured, here otherwise.
/// </summary>
internal sealed partial class ScheduledDrillService(BackupApplication application, TimeProvider time, ILogger<ScheduledDrillService> logger) : BackgroundService
{
    // Re-check at least this often, so a clock change or a suspended machine is noticed.
    private static readonly TimeSpan s_maxSleep = TimeSpan.FromMinutes(1);

    public BackupScheduler Scheduler { get; } = new(application.Options.Clusters.Select(c => new KeyValuePair<string, string?>(c.Key, c.Value.Drill?.Schedule)), time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var cluster in Scheduler.Clusters)
        {
            try
            {
                // An occurrence missed while nothing ran is caught up once, from the newest drill on record.
                var drills = await DrillRecords.GetLatestByBackupAsync(application.Store, cluster, stoppingToken).ConfigureAwait(false);
                if (drills.Count > 0)
                {
                    Scheduler.SetLastRun(cluster, drills.Values.Max(d => d.Started));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogDrillRecordsUnavailable(logger, cluster, ex);
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
                    var started = await application.StartDrillAsync(cluster, "latest", BackupTrigger.Scheduled, stoppingToken).ConfigureAwait(false);
                    LogScheduledDrillStarting(logger, cluster, started.InstanceId, started.Deduplicated ? " (already running: joined, not stacked)" : "");
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogScheduledDrillFailedToStart(logger, cluster, ex);
                }
            }
        }
    }

    [LoggerMessage(EventId = 3030, EventName = "ScheduledDrillStarting", Level = LogLevel.Information, Message = "Scheduled drill of {Cluster} due; instance {InstanceId}{Joined}")]
    private static partial void LogScheduledDrillStarting(ILogger logger, string cluster, string instanceId, string joined);

    [LoggerMessage(EventId = 3031, EventName = "ScheduledDrillFailedToStart", Level = LogLevel.Error, Message = "Scheduled drill of {Cluster} could not start")]
    private static partial void LogScheduledDrillFailedToStart(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(EventId = 3032, EventName = "DrillRecordsUnavailable", Level = LogLevel.Warning, Message = "Could not read the drill records of {Cluster}; its drill schedule starts from now")]
    private static partial void LogDrillRecordsUnavailable(ILogger logger, string cluster, Exception exception);
}
