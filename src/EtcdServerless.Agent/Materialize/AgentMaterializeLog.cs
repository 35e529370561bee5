namespace EtcdServerless.Agent.Materialize;

/// <summary>Log messages of the agent's materialize endpoint (event ids 5290-5299).</summary>
internal static partial class AgentMaterializeLog
{
    [LoggerMessage(EventId = 5290, EventName = "AgentMaterializeFinished", Level = LogLevel.Information,
        Message = "Materialization of cluster {Cluster} at revision {Revision} from backup {BackupId} and {Segments} segment(s) {Outcome} in {DurationMs} ms")]
    public static partial void Finished(ILogger logger, string cluster, long revision, string backupId, int segments, string outcome, double durationMs);

    [LoggerMessage(EventId = 5291, EventName = "AgentMaterializeScratchNotRemoved", Level = LogLevel.Warning,
        Message = "Materialization scratch folder {Folder} could not be removed: {Reason}")]
    public static partial void ScratchNotRemoved(ILogger logger, string folder, string reason);
}
