using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>Logs of <c>serve</c>'s delta timer (event ids 3040-3049).</summary>
internal static partial class DeltaServeLog
{
    [LoggerMessage(EventId = 3040, EventName = "ScheduledDeltasStarting", Level = LogLevel.Information, Message = "Delta capture of {Cluster} due; instance {InstanceId}{Joined}")]
    public static partial void ScheduledDeltasStarting(this ILogger logger, string cluster, string instanceId, string joined);

    [LoggerMessage(EventId = 3041, EventName = "ScheduledDeltasFailedToStart", Level = LogLevel.Error, Message = "Delta capture of {Cluster} could not start")]
    public static partial void ScheduledDeltasFailedToStart(this ILogger logger, string cluster, Exception exception);
}
