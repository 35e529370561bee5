using Grpc.Core;

namespace EtcdServerless.Etcd.Errors;

/// <summary>gRPC status codes (https://grpc.io/docs/guides/status-codes/).</summary>
internal enum GrpcStatusCode
{
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

/// <summary>An etcd call failed. <see cref="StatusCode"/> is the gRPC status (or the closest one for transport errors).</summary>
internal class EtcdException : Exception
{
    public EtcdException(GrpcStatusCode statusCode, string message, string? endpoint = null, Exception? innerException = null)
        : base(Format(statusCode, message, endpoint), innerException)
    {
        StatusCode = statusCode;
        ServerMessage = message;
        Endpoint = endpoint;
    }

    /// <summary>gRPC status of the failure.</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The server's grpc-message (or our description of a transport failure).</summary>
    public string ServerMessage { get; }

    /// <summary>The endpoint the call went to.</summary>
    public string? Endpoint { get; }

    private static string Format(GrpcStatusCode statusCode, string message, string? endpoint) =>
        endpoint is null ? $"etcd {statusCode}: {message}" : $"etcd {endpoint} {statusCode}: {message}";
}

/// <summary>The member could not be reached, the connection broke, or etcd reported Unavailable (no leader, ...). Retryable.</summary>
internal sealed class EtcdUnavailableException(string message, string? endpoint = null, Exception? innerException = null)
    : EtcdException(GrpcStatusCode.Unavailable, message, endpoint, innerException);

/// <summary>Credentials were refused or the auth token is invalid/expired (Unauthenticated), or auth failed.</summary>
internal sealed class EtcdAuthenticationException(string message, string? endpoint = null, Exception? innerException = null)
    : EtcdException(GrpcStatusCode.Unauthenticated, message, endpoint, innerException);

/// <summary>The user lacks the role the call needs (e.g. Snapshot needs root).</summary>
internal sealed class EtcdPermissionDeniedException(string message, string? endpoint = null, Exception? innerException = null)
    : EtcdException(GrpcStatusCode.PermissionDenied, message, endpoint, innerException);

/// <summary>etcd rejected the request as invalid (also: "user name is empty" when auth is on and no user was given).</summary>
internal sealed class EtcdInvalidArgumentException(string message, string? endpoint = null, Exception? innerException = null)
    : EtcdException(GrpcStatusCode.InvalidArgument, message, endpoint, innerException);

/// <summary>The call's deadline passed before etcd answered.</summary>
internal sealed class EtcdDeadlineExceededException(string message, string? endpoint = null, Exception? innerException = null)
    : EtcdException(GrpcStatusCode.DeadlineExceeded, message, endpoint, innerException);

/// <summary>Maps a gRPC status to the exception type callers handle.</summary>
internal static class EtcdErrors
{
    public static EtcdException FromStatus(GrpcStatusCode code, string message, string? endpoint, Exception? inner = null)
    {
        // etcd 3.4 reports some permission failures as Unknown with this text.
        if (code == GrpcStatusCode.Unknown && message.Contains("permission denied", StringComparison.OrdinalIgnoreCase))
        {
            return new EtcdPermissionDeniedException(message, endpoint, inner);
        }

        // etcd 3.4's Snapshot checks the token outside the gRPC interceptor and answers an expired one with
        // Unknown "auth: invalid auth token": the same condition as Unauthenticated on every other call.
        if (code == GrpcStatusCode.Unknown && message.Contains("invalid auth token", StringComparison.OrdinalIgnoreCase))
        {
            return new EtcdAuthenticationException(message, endpoint, inner);
        }

        return code switch
        {
            GrpcStatusCode.Unavailable => new EtcdUnavailableException(message, endpoint, inner),
            GrpcStatusCode.Unauthenticated => new EtcdAuthenticationException(message, endpoint, inner),
            GrpcStatusCode.PermissionDenied => new EtcdPermissionDeniedException(message, endpoint, inner),
            GrpcStatusCode.InvalidArgument => new EtcdInvalidArgumentException(message, endpoint, inner),
            GrpcStatusCode.DeadlineExceeded => new EtcdDeadlineExceededException(message, endpoint, inner),
            _ => new EtcdException(code, message, endpoint, inner),
        };
    }

    /// <summary>
    /// Translates a Grpc.Net.Client failure at the boundary (the <see cref="RpcException"/> stays the inner
    /// exception). A transport failure that Grpc.Net.Client reports with another code (a connection reset
    /// mid-stream is Internal or Unknown with an IOException/HttpRequestException behind it) becomes
    /// Unavailable, as it is a member problem a caller retries elsewhere.
    /// </summary>
    public static EtcdException FromRpc(RpcException ex, string? endpoint)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var code = (GrpcStatusCode)(int)ex.StatusCode;
        var message = ex.Status.Detail;
        if (ex.Status.DebugException is { } cause && code is not GrpcStatusCode.DeadlineExceeded and not GrpcStatusCode.Cancelled
            && IsTransport(cause))
        {
            if (IsTlsHandshake(cause))
            {
                // "unexpected EOF" alone sends people looking for a network fault; say what it usually is.
                var hint = Innermost(cause) is System.Security.Authentication.AuthenticationException
                    ? "the member's certificate was refused (check Tls:CaFile and that the endpoint's host name is in the certificate)"
                    : "the member did not answer TLS on this port; if it serves plain gRPC, use an http:// endpoint";
                return new EtcdUnavailableException($"TLS handshake failed: {hint} ({Innermost(cause).Message})", endpoint, ex);
            }

            return new EtcdUnavailableException(string.IsNullOrEmpty(message) ? Innermost(cause).Message : $"{message} ({Innermost(cause).Message})", endpoint, ex);
        }

        return FromStatus(code, message, endpoint, ex);
    }

    private static bool IsTlsHandshake(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } or System.Security.Authentication.AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTransport(Exception ex) =>
        ex is HttpRequestException or IOException or System.Security.Authentication.AuthenticationException
            or System.Net.Sockets.SocketException;

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    /// <summary>True for the error etcd returns for a bad or expired simple/JWT token.</summary>
    public static bool IsInvalidToken(EtcdException ex) =>
        ex.StatusCode == GrpcStatusCode.Unauthenticated
        && ex.ServerMessage.Contains("invalid auth token", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The history asked for is gone: the member compacted it (revision <see cref="CompactRevision"/> is the oldest left).</summary>
internal sealed class EtcdCompactedException(long requestedRevision, long compactRevision, string? endpoint = null, Exception? innerException = null)
    : EtcdException(GrpcStatusCode.OutOfRange, $"revision {requestedRevision} has been compacted (compacted up to {compactRevision})", endpoint, innerException)
{
    /// <summary>The first revision that was asked for.</summary>
    public long RequestedRevision { get; } = requestedRevision;

    /// <summary>The member's compaction revision: history from here on is still available.</summary>
    public long CompactRevision { get; } = compactRevision;
}
