using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Restore;

/// <summary>Restore log events (event ids 2400-2499). RestoreSucceeded/RestoreFailed feed the alerts.</summary>
internal static partial class RestoreLog
{
    [LoggerMessage(EventId = 2400, EventName = "RestoreSucceeded", Level = LogLevel.Information,
        Message = "Restore of cluster {Cluster} succeeded (reason: {Reason})")]
    public static partial void RestoreSucceeded(this ILogger logger, string cluster, string reason);

    [LoggerMessage(EventId = 2401, EventName = "RestoreFailed", Level = LogLevel.Error,
        Message = "Restore of cluster {Cluster} ended {Outcome} in phase {Phase}: {Error}")]
    public static partial void RestoreFailed(this ILogger logger, string cluster, string outcome, string phase, string error);
}
