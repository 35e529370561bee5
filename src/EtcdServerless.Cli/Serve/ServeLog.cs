using System.Net;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>The HTTP host's own events (the contract's are in Workflows).</summary>
internal static partial class ServeLog
{
    [LoggerMessage(EventId = 3020, EventName = "ClientThrottled", Level = LogLevel.Warning, Message = "Client {Client} refused with 429: too many requests with a wrong or missing API key; retry after {RetryAfterSeconds} s")]
    public static partial void ClientThrottled(this ILogger logger, IPAddress? client, int retryAfterSeconds);

    [LoggerMessage(EventId = 3021, EventName = "RequestRefused", Level = LogLevel.Debug, Message = "Request {Method} refused with {Status}: {Reason}")]
    public static partial void RequestRefused(this ILogger logger, string method, int status, string reason);

    [LoggerMessage(EventId = 3022, EventName = "FreshnessUnreadable", Level = LogLevel.Warning, Message = "Could not read the status of {Cluster} from the store; its metrics keep their last values")]
    public static partial void FreshnessUnreadable(this ILogger logger, string cluster, Exception exception);
}
