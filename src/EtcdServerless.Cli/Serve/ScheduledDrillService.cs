using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Scheduling;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The drill schedules of <c>serve</c> (<c>Clusters:C:Drill:Schedule</c>, the same <see cref="BackupScheduler"/> rule as
/// backups): when a cluster is due, a drill of its latest backup starts through the gateway (one per cluster; a
/// running one is joined, not stacked). The drill runs on the cluster's agent when one is configured, here otherwise.
/// </summary>
internal sealed partial class ScheduledDrillService(BackupApplication application, TimeProvider time, ILogger<ScheduledDrillService> logger)
    : ScheduledRunService(new BackupScheduler(application.Options.Clusters.Select(c => new KeyValuePair<string, string?>(c.Key, c.Value.Drill?.Schedule)), time), time)
{
    protected override async Task<DateTimeOffset?> ReadLastRunAsync(string cluster, CancellationToken cancellationToken)
    {
        var drills = await DrillRecords.GetLatestByBackupAsync(application.Store, cluster, cancellationToken).ConfigureAwait(false);
        return drills.Count > 0 ? drills.Values.Max(d => d.Started) : null;
    }

    protected override void OnLastRunUnavailable(string cluster, Exception exception) => LogDrillRecordsUnavailable(logger, cluster, exception);

    protected override async Task StartRunAsync(string cluster, CancellationToken cancellationToken)
    {
        var started = await application.StartDrillAsync(cluster, "latest", BackupTrigger.Scheduled, cancellationToken).ConfigureAwait(false);
        LogScheduledDrillStarting(logger, cluster, started.InstanceId, JoinedSuffix(started.Deduplicated));
    }

    protected override void OnStartFailed(string cluster, Exception exception) => LogScheduledDrillFailedToStart(logger, cluster, exception);

    [LoggerMessage(EventId = 3030, EventName = "ScheduledDrillStarting", Level = LogLevel.Information, Message = "Scheduled drill of {Cluster} due; instance {InstanceId}{Joined}")]
    private static partial void LogScheduledDrillStarting(ILogger logger, string cluster, string instanceId, string joined);

    [LoggerMessage(EventId = 3031, EventName = "ScheduledDrillFailedToStart", Level = LogLevel.Error, Message = "Scheduled drill of {Cluster} could not start")]
    private static partial void LogScheduledDrillFailedToStart(ILogger logger, string cluster, Exception exception);

    [LoggerMessage(EventId = 3032, EventName = "DrillRecordsUnavailable", Level = LogLevel.Warning, Message = "Could not read the drill records of {Cluster}; its drill schedule starts from now")]
    private static partial void LogDrillRecordsUnavailable(ILogger logger, string cluster, Exception exception);
}
