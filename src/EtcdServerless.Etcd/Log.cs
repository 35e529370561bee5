using Microsoft.Extensions.Logging;

namespace EtcdServerless.Etcd;

/// <summary>Source-generated logs of the etcd area. Event ids: 1000-1049 client, 1050-1099 endpoints, 1100-1149 capture.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Debug, Message = "Authenticated to {Endpoint} as {User}")]
    public static partial void Authenticated(this ILogger logger, string endpoint, string user);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Auth token for {Endpoint} was rejected ({Reason}); re-authenticating once")]
    public static partial void TokenRejected(this ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Credentials given but auth is not enabled on {Endpoint}; continuing without a token")]
    public static partial void AuthNotEnabled(this ILogger logger, string endpoint);

    [LoggerMessage(EventId = 1050, Level = LogLevel.Warning, Message = "etcd endpoint {Endpoint} is not usable as a snapshot source: {Reason}")]
    public static partial void SourceRejected(this ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 1051, Level = LogLevel.Information, Message = "Snapshot source plan: {Ranked} candidate(s), first {Endpoint} ({Reason})")]
    public static partial void SourcePlanned(this ILogger logger, int ranked, string endpoint, string reason);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Snapshot attempt {Attempt} from {Member} at {Endpoint}")]
    public static partial void CaptureAttempt(this ILogger logger, int attempt, string member, string endpoint);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Snapshot attempt {Attempt} from {Endpoint} failed after {Bytes} bytes; trying the next member")]
    public static partial void CaptureAttemptFailed(this ILogger logger, Exception exception, int attempt, string endpoint, long bytes);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Snapshot saved from {Endpoint}: {Bytes} bytes, sha256 {Sha256}")]
    public static partial void CaptureCompleted(this ILogger logger, string endpoint, long bytes, string sha256);
}
