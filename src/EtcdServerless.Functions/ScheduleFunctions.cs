using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Scheduling;
using EtcdServerless.Workflows.Instances;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Functions;

/// <summary>
/// The schedule: one timer a minute starts a backup for each cluster whose NCRONTAB schedule (Clusters:C:Schedule,
/// read from app settings, the same rule <c>serve</c> follows) has an occurrence in this minute, and a drill of the
/// latest backup for each cluster whose Clusters:C:Drill:Schedule has one. A cluster whose backup or drill still
/// runs is joined, not stacked (the gateway's per-cluster gates).
/// </summary>
internal sealed partial class ScheduleFunctions(EtcdBackupOptions options, TimeProvider time, ILogger<ScheduleFunctions> logger)
{
    [Function("BackupScheduler")]
    public async Task RunAsync([TimerTrigger("0 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient client, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        var slot = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        var scheduler = new BackupScheduler(options.Clusters.Select(c => new KeyValuePair<string, string?>(c.Key, c.Value.Schedule)), time);
        var gateway = new WorkflowGateway(client, time);
        foreach (var cluster in scheduler.DueInSlot(slot, TimeSpan.FromMinutes(1)))
        {
            var started = await gateway.StartBackupAsync(cluster, BackupTrigger.Scheduled, context.CancellationToken).ConfigureAwait(false);
            LogScheduled(logger, cluster, started.InstanceId, started.Deduplicated);
        }

        var drills = new BackupScheduler(options.Clusters.Select(c => new KeyValuePair<string, string?>(c.Key, c.Value.Drill?.Schedule)), time);
        foreach (var cluster in drills.DueInSlot(slot, TimeSpan.FromMinutes(1)))
        {
            var started = await gateway.StartDrillAsync(cluster, "latest", BackupTrigger.Scheduled, context.CancellationToken).ConfigureAwait(false);
            LogScheduledDrill(logger, cluster, started.InstanceId, started.Deduplicated);
        }
    }

    [LoggerMessage(EventId = 2903, EventName = "ScheduledDrillStarted", Level = LogLevel.Information,
        Message = "Scheduled drill of {Cluster}: instance {InstanceId} (joined a running one: {Deduplicated})")]
    private static partial void LogScheduledDrill(ILogger logger, string cluster, string instanceId, bool deduplicated);

    /// <summary>
    /// The delta timer: each minute, a delta run for each cluster whose <c>Deltas:Interval</c> has an occurrence in this
    /// minute (<see cref="DeltaSchedule"/>, the rule <c>serve</c> follows); a run still going is joined, never stacked.
    /// An interval under a minute runs once a minute here.
    /// </summary>
    [Function("DeltaScheduler")]
    public async Task RunDeltasAsync([TimerTrigger("0 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient client, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        var slot = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        var gateway = new WorkflowGateway(client, time);
        foreach (var cluster in DeltaSchedule.DueInSlot(options, slot, TimeSpan.FromMinutes(1)))
        {
            var started = await gateway.StartDeltasAsync(cluster, context.CancellationToken).ConfigureAwait(false);
            LogDeltasScheduled(logger, cluster, started.InstanceId, started.Deduplicated);
        }
    }

    [LoggerMessage(EventId = 2902, EventName = "ScheduledDeltasStarted", Level = LogLevel.Information,
        Message = "Scheduled delta capture of {Cluster}: instance {InstanceId} (joined a running one: {Deduplicated})")]
    private static partial void LogDeltasScheduled(ILogger logger, string cluster, string instanceId, bool deduplicated);

    [LoggerMessage(EventId = 2900, EventName = "ScheduledBackupStarted", Level = LogLevel.Information,
        Message = "Scheduled backup of {Cluster}: instance {InstanceId} (joined a running one: {Deduplicated})")]
    private static partial void LogScheduled(ILogger logger, string cluster, string instanceId, bool deduplicated);
}
