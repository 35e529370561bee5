using Microsoft.Extensions.Logging;

namespace EtcdServerless.Functions;

/// <summary>Function App log events (event ids 2900-2999).</summary>
internal static partial class FunctionsLog
{
    [LoggerMessage(EventId = 2900, EventName = "BackupAlreadyRunning", Level = LogLevel.Information,
        Message = "Backup of {Cluster} not started: {InstanceId} is still running")]
    public static partial void BackupAlreadyRunning(ILogger logger, string cluster, string instanceId);
}
