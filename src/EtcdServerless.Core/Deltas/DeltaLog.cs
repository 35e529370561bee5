using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Deltas;

/// <summary>Delta capture and materialization log events (event ids 2700-2799). DeltaGap feeds the alerts.</summary>
internal static partial class DeltaLog
{
    [LoggerMessage(EventId = 2700, EventName = "DeltaCaptured", Level = LogLevel.Information,
        Message = "Delta segment {SegmentId} of cluster {Cluster} captured from {Source}: {Events} events in {Revisions} revisions, {Bytes} bytes")]
    public static partial void DeltaCaptured(this ILogger logger, string cluster, string segmentId, string source, long events, long revisions, long bytes);

    [LoggerMessage(EventId = 2701, EventName = "DeltaUpToDate", Level = LogLevel.Debug,
        Message = "Cluster {Cluster} has no revisions after {Revision}: no delta segment written")]
    public static partial void DeltaUpToDate(this ILogger logger, string cluster, long revision);

    [LoggerMessage(EventId = 2702, EventName = "DeltaGap", Level = LogLevel.Error,
        Message = "Delta chain of cluster {Cluster} is broken: {Reason}; a full backup is needed")]
    public static partial void DeltaGap(this ILogger logger, string cluster, string reason);

    [LoggerMessage(EventId = 2703, EventName = "DeltaChainRestarted", Level = LogLevel.Warning,
        Message = "Delta chain of cluster {Cluster} restarts at full backup {BackupId} (revision {Revision}): the revisions after segment {Previous} were compacted")]
    public static partial void DeltaChainRestarted(this ILogger logger, string cluster, string backupId, long revision, string previous);

    [LoggerMessage(EventId = 2710, EventName = "Materialized", Level = LogLevel.Information,
        Message = "Cluster {Cluster} materialized at revision {Revision} from backup {BackupId} and {Segments} segment(s), {Revisions} revision(s) replayed")]
    public static partial void Materialized(this ILogger logger, string cluster, long revision, string backupId, int segments, long revisions);

    [LoggerMessage(EventId = 2711, EventName = "MaterializeScratchNotRemoved", Level = LogLevel.Warning,
        Message = "Materialization scratch folder {Folder} could not be removed: {Reason}")]
    public static partial void MaterializeScratchNotRemoved(this ILogger logger, string folder, string reason);

    [LoggerMessage(EventId = 2713, EventName = "MaterializeMemberInMemory", Level = LogLevel.Information,
        Message = "Materializing cluster {Cluster}: the throwaway member's data dir is in memory at {Folder} (up to {EstimateMiB} MiB)")]
    public static partial void MaterializeMemberInMemory(this ILogger logger, string cluster, string folder, long estimateMiB);

    [LoggerMessage(EventId = 2712, EventName = "MaterializedOnAgent", Level = LogLevel.Information,
        Message = "Cluster {Cluster} materialized at revision {Revision} on agent {AgentUrl} from {Segments} segment(s), {Revisions} revision(s) replayed")]
    public static partial void MaterializedOnAgent(this ILogger logger, string cluster, long revision, string agentUrl, int segments, long revisions);
}
