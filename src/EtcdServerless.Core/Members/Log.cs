using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Members;

/// <summary>Log messages of the member-process area (event ids 5000-5099).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Started etcd member {Name} (pid {Pid}), log {LogFile}")]
    public static partial void EtcdStarted(ILogger logger, string name, int pid, string logFile);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Stopping etcd member {Name} (pid {Pid})")]
    public static partial void EtcdStopping(ILogger logger, string name, int pid);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "etcd member {Name} (pid {Pid}) ignored SIGTERM for {Grace}; killing it")]
    public static partial void EtcdKilled(ILogger logger, string name, int pid, TimeSpan grace);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "etcd member {Name} exited with code {ExitCode}")]
    public static partial void EtcdExited(ILogger logger, string name, int exitCode);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Running {Command}")]
    public static partial void RunningCommand(ILogger logger, string command);
}
