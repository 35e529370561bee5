namespace EtcdServerless.Agent.Drills;

/// <summary>Log messages of the agent's drill endpoint (event ids 5280-5289).</summary>
internal static partial class AgentDrillLog
{
    [LoggerMessage(EventId = 5280, EventName = "AgentDrillFinished", Level = LogLevel.Information,
        Message = "Drill of cluster {Cluster} backup {BackupId} {Outcome} in {DurationMs} ms")]
    public static partial void Finished(ILogger logger, string cluster, string backupId, string outcome, double durationMs);
}
