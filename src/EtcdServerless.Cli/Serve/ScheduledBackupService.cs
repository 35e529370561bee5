using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Scheduling;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>The backup schedules of <c>serve</c> (<c>Clusters:C:Schedule</c>): a due cluster's backup starts through the gateway.</summary>
internal sealed class ScheduledBackupService(BackupApplication application, TimeProvider time, ILogger<ScheduledBackupService> logger)
    : ScheduledRunService(new BackupScheduler(application.Options.Clusters.Select(c => new KeyValuePair<string, string?>(c.Key, c.Value.Schedule)), time), time)
{
    protected override async Task<DateTimeOffset?> ReadLastRunAsync(string cluster, CancellationToken cancellationToken) =>
        (await application.Catalog.GetLatestAsync(cluster, cancellationToken).ConfigureAwait(false))?.Created;

    protected override void OnLastRunUnavailable(string cluster, Exception exception) => logger.CatalogUnavailable(cluster, exception);

    protected override void OnNextDue(string cluster, DateTimeOffset next) => logger.NextScheduledBackup(cluster, next);

    protected override async Task StartRunAsync(string cluster, CancellationToken cancellationToken)
    {
        var started = await application.StartBackupAsync(cluster, BackupTrigger.Scheduled, cancellationToken).ConfigureAwait(false);
        logger.ScheduledBackupStarting(cluster, started.InstanceId, JoinedSuffix(started.Deduplicated));
    }

    protected override void OnStartFailed(string cluster, Exception exception) => logger.ScheduledBackupFailedToStart(cluster, exception);
}
