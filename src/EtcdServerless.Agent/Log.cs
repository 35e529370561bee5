using Microsoft.Extensions.Logging;

namespace EtcdServerless.Agent;

/// <summary>Log messages of the agent (event ids 5200-5299).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5200, Level = LogLevel.Information, Message = "Restore {RestoreId}: step {Step} {Outcome} in {DurationMs} ms")]
    public static partial void StepFinished(ILogger logger, string restoreId, string step, string outcome, double durationMs);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "Refused client certificate {Subject} ({Thumbprint}): {Reason}")]
    public static partial void ClientRefused(ILogger logger, string subject, string thumbprint, string reason);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "Running hook: {Command}")]
    public static partial void RunningHook(ILogger logger, string command);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "Agent for member {Member} listening on {Url} ({Mode} mode)")]
    public static partial void Listening(ILogger logger, string member, string url, string mode);

    [LoggerMessage(EventId = 5204, Level = LogLevel.Information, Message = "Restore {RestoreId}: moved {From} to {To}")]
    public static partial void Moved(ILogger logger, string restoreId, string from, string to);

    [LoggerMessage(EventId = 5205, Level = LogLevel.Information, Message = "Restore {RestoreId}: deleted the older kept data dir {Dir} (Agent:KeepPreviousDataDirs)")]
    public static partial void PrunedDataDir(ILogger logger, string restoreId, string dir);

    [LoggerMessage(EventId = 5206, Level = LogLevel.Information, Message = "Removed kept data dir {Dir} ({Via})")]
    public static partial void RemovedDataDir(ILogger logger, string dir, string via);

    [LoggerMessage(EventId = 5207, Level = LogLevel.Information, Message = "Served the control-plane bundle: {Entries} entries, {Bytes} bytes of tar from {Roots}")]
    public static partial void BundleServed(ILogger logger, int entries, long bytes, string roots);

    [LoggerMessage(EventId = 5208, Level = LogLevel.Information, Message = "Restore {RestoreId}: put the control-plane bundle back ({Entries} entries under {Roots})")]
    public static partial void BundleRestored(ILogger logger, string restoreId, int entries, string roots);

    [LoggerMessage(EventId = 5209, Level = LogLevel.Warning, Message = "Restore {RestoreId}: could not stage the upload in memory at {Path} ({Reason}); staging it beside the data dir")]
    public static partial void MemoryStagingRefused(ILogger logger, string restoreId, string path, string reason);

    [LoggerMessage(EventId = 5210, Level = LogLevel.Warning, Message = "Restore {RestoreId}: could not delete {Dir}, set aside for deletion ({Reason}); the agent tries again when it starts")]
    public static partial void DeleteFailed(ILogger logger, string restoreId, string dir, string reason);

    [LoggerMessage(EventId = 5211, Level = LogLevel.Warning, Message = "Restore {RestoreId}: rolled back, but could not delete the staging leftover {Path} ({Reason}); delete it by hand")]
    public static partial void StagingLeftoverKept(ILogger logger, string restoreId, string path, string reason);
}
