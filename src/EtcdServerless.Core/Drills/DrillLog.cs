using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Drills;

/// <summary>Restore drill log events (event ids 2600-2699). DrillFailed feeds the alerts.</summary>
internal static partial class DrillLog
{
    [LoggerMessage(EventId = 2600, EventName = "DrillPassed", Level = LogLevel.Information,
        Message = "Restore drill of cluster {Cluster} backup {BackupId} passed: {Checks} checks in {Duration}")]
    public static partial void DrillPassed(this ILogger logger, string cluster, string backupId, int checks, TimeSpan duration);

    [LoggerMessage(EventId = 2601, EventName = "DrillFailed", Level = LogLevel.Error,
        Message = "Restore drill of cluster {Cluster} backup {BackupId} failed at check {Check}: {Reason}")]
    public static partial void DrillFailed(this ILogger logger, string cluster, string backupId, string check, string reason);

    [LoggerMessage(EventId = 2602, EventName = "DrillRecordNotWritten", Level = LogLevel.Warning,
        Message = "Restore drill of cluster {Cluster} backup {BackupId}: its record could not be written to the store: {Reason}")]
    public static partial void DrillRecordNotWritten(this ILogger logger, string cluster, string backupId, string reason);

    [LoggerMessage(EventId = 2603, EventName = "DrillScratchNotRemoved", Level = LogLevel.Warning,
        Message = "Restore drill scratch folder {Folder} could not be removed: {Reason}")]
    public static partial void DrillScratchNotRemoved(this ILogger logger, string folder, string reason);
}
