using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>Backup pipeline log events (event ids 2100-2199). BackupSucceeded/BackupFailed feed the alerts.</summary>
internal static partial class BackupLog
{
    [LoggerMessage(EventId = 2100, EventName = "BackupSucceeded", Level = LogLevel.Information,
        Message = "Backup of cluster {Cluster} succeeded: {BackupId}, revision {Revision}, {TotalKey} keys, {Size} bytes")]
    public static partial void BackupSucceeded(this ILogger logger, string cluster, string backupId, long revision, long totalKey, long size);

    [LoggerMessage(EventId = 2101, EventName = "BackupFailed", Level = LogLevel.Error,
        Message = "Backup of cluster {Cluster} failed in phase {Phase}: {Reason}")]
    public static partial void BackupFailed(this ILogger logger, string cluster, string phase, string reason);

    [LoggerMessage(EventId = 2102, EventName = "BackupKeyCountDropped", Level = LogLevel.Warning,
        Message = "Backup {BackupId} of cluster {Cluster} has {TotalKey} keys, previous backup had {PreviousTotalKey}: flagged, the previous backup is kept")]
    public static partial void KeyCountDropped(this ILogger logger, string cluster, string backupId, long totalKey, long previousTotalKey);

    [LoggerMessage(EventId = 2103, EventName = "SnapshotSourceSkipped", Level = LogLevel.Warning,
        Message = "Snapshot source {Endpoint} of cluster {Cluster} failed, trying the next member: {Reason}")]
    public static partial void SourceAttemptFailed(this ILogger logger, string cluster, string endpoint, string reason);

    [LoggerMessage(EventId = 2104, EventName = "SnapshotSourceChosen", Level = LogLevel.Information,
        Message = "Cluster {Cluster}: streaming the snapshot from {Endpoint} (leader: {IsLeader})")]
    public static partial void SourceChosen(this ILogger logger, string cluster, string endpoint, bool isLeader);

    [LoggerMessage(EventId = 2105, EventName = "BackupConsistencyDivergence", Level = LogLevel.Error,
        Message = "Cluster {Cluster}: members disagree on HashKV at revision {Revision}: {Detail}")]
    public static partial void ConsistencyDivergence(this ILogger logger, string cluster, long revision, string detail);

    [LoggerMessage(EventId = 2106, EventName = "RetentionFailed", Level = LogLevel.Warning,
        Message = "Retention of cluster {Cluster} failed (the backup itself succeeded)")]
    public static partial void RetentionFailed(this ILogger logger, string cluster, Exception exception);

    [LoggerMessage(EventId = 2107, EventName = "BackupFailureRecordNotWritten", Level = LogLevel.Warning,
        Message = "Backup of cluster {Cluster} failed and its failure record could not be written to the store: {Reason}")]
    public static partial void FailureRecordNotWritten(this ILogger logger, string cluster, string reason);

    [LoggerMessage(EventId = 2108, EventName = "BundleSealed", Level = LogLevel.Information,
        Message = "Cluster {Cluster}: control-plane bundle of backup {BackupId} sealed ({TarBytes} bytes of tar, {StoredBytes} stored)")]
    public static partial void BundleSealed(this ILogger logger, string cluster, string backupId, long tarBytes, long storedBytes);

    [LoggerMessage(EventId = 2109, EventName = "BundleFailed", Level = LogLevel.Warning,
        Message = "Cluster {Cluster}: backup {BackupId} has no control-plane bundle: {Reason}")]
    public static partial void BundleFailed(this ILogger logger, string cluster, string backupId, string reason);
}
