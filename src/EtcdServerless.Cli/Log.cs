using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli;

/// <summary>CLI log events (ids 3000-3099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3000, EventName = "ServeStarted", Level = LogLevel.Information, Message = "Serving the HTTP API on {Addresses}; {ScheduledClusters} scheduled cluster(s)")]
    public static partial void ServeStarted(this ILogger logger, string addresses, int scheduledClusters);

    [LoggerMessage(EventId = 3001, EventName = "ScheduledBackupStarting", Level = LogLevel.Information, Message = "Scheduled backup of {Cluster} due; instance {InstanceId}{Joined}")]
    public static partial void ScheduledBackupStarting(this ILogger logger, string cluster, string instanceId, string joined);

    [LoggerMessage(EventId = 3002, EventName = "ScheduledBackupFailedToStart", Level = LogLevel.Error, Message = "Scheduled backup of {Cluster} could not start")]
    public static partial void ScheduledBackupFailedToStart(this ILogger logger, string cluster, Exception exception);

    [LoggerMessage(EventId = 3003, EventName = "NextScheduledBackup", Level = LogLevel.Debug, Message = "Next scheduled backup of {Cluster} at {NextDue:O}")]
    public static partial void NextScheduledBackup(this ILogger logger, string cluster, DateTimeOffset nextDue);

    [LoggerMessage(EventId = 3004, EventName = "CatalogUnavailable", Level = LogLevel.Warning, Message = "Could not read the last backup of {Cluster} from the catalog; its schedule starts from now")]
    public static partial void CatalogUnavailable(this ILogger logger, string cluster, Exception exception);
}
