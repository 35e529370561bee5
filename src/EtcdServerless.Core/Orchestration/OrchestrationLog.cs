using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Orchestration;

/// <summary>Runner log events (event ids 2000-2099).</summary>
internal static partial class OrchestrationLog
{
    [LoggerMessage(EventId = 2000, EventName = "OrchestrationStarted", Level = LogLevel.Information, Message = "Orchestration {Name} instance {InstanceId} started")]
    public static partial void OrchestrationStarted(this ILogger logger, string name, string instanceId);

    [LoggerMessage(EventId = 2001, EventName = "OrchestrationDeduplicated", Level = LogLevel.Information, Message = "Orchestration {Name} not started: instance {InstanceId} is already running")]
    public static partial void OrchestrationDeduplicated(this ILogger logger, string name, string instanceId);

    [LoggerMessage(EventId = 2002, EventName = "OrchestrationCompleted", Level = LogLevel.Information, Message = "Orchestration {Name} instance {InstanceId} completed")]
    public static partial void OrchestrationCompleted(this ILogger logger, string name, string instanceId);

    [LoggerMessage(EventId = 2003, EventName = "OrchestrationFailed", Level = LogLevel.Warning, Message = "Orchestration {Name} instance {InstanceId} failed: {ErrorType}: {ErrorMessage}")]
    public static partial void OrchestrationFailed(this ILogger logger, string name, string instanceId, string errorType, string errorMessage);

    [LoggerMessage(EventId = 2004, EventName = "ActivityFailed", Level = LogLevel.Warning, Message = "Activity {Activity} (#{Sequence}) of instance {InstanceId} threw")]
    public static partial void ActivityFailed(this ILogger logger, string activity, int sequence, string instanceId, Exception exception);
}
