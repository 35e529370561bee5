using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Monitoring;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Functions;

/// <summary>
/// The freshness monitor of the Function App (what <c>serve</c>'s FreshnessMonitorService does): every five minutes
/// each cluster's status is read from the store (newest backup, newest failure record, newest drill, fresh/stale) and
/// observed by <see cref="BackupMetrics"/>, so the gauges exported to Application Insights hold for every cluster,
/// whichever instance ran the backup, and staleness shows while nothing runs.
/// </summary>
internal sealed partial class MonitorFunctions(EtcdBackupOptions options, BackupStatusReader reader, BackupMetrics metrics, ILogger<MonitorFunctions> logger)
{
    [Function("FreshnessMonitor")]
    public async Task RunAsync([TimerTrigger("30 */5 * * * *")] TimerInfo timer, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var cluster in options.Clusters.Keys)
        {
            try
            {
                metrics.Observe(await reader.ReadAsync(cluster, context.CancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogUnreadable(logger, cluster, ex);
            }
        }
    }

    [LoggerMessage(EventId = 2901, EventName = "FreshnessUnreadable", Level = LogLevel.Warning,
        Message = "Could not read the status of {Cluster} from the store; its metrics keep their last values")]
    private static partial void LogUnreadable(ILogger logger, string cluster, Exception exception);
}
