using Azure;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// Translates what Azure.Storage.Blobs throws (<see cref="RequestFailedException"/> for service answers, and for
/// faults below HTTP once its retries are spent) into the store's few exceptions, keeping the SDK's as the inner one.
/// </summary>
internal static class BlobErrors
{
    /// <summary>The command that creates a missing container; named in every "container does not exist" error.</summary>
    public const string InitCommand = "etcd-backup store init";

    /// <summary>True when the error code says retention or a legal hold blocks the operation.</summary>
    public static bool IsImmutabilityError(string? errorCode) =>
        errorCode is not null
        && (errorCode.Contains("Immutab", StringComparison.OrdinalIgnoreCase)
            || errorCode.Contains("LegalHold", StringComparison.OrdinalIgnoreCase));

    /// <summary>True for exceptions the SDK surfaces for service answers and transport faults (not our own bugs).</summary>
    public static bool IsServiceFault(Exception exception, CancellationToken cancellationToken) =>
        exception is RequestFailedException or IOException or AggregateException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>Maps an SDK failure of <paramref name="operation"/> on <paramref name="target"/> to the store's exception.</summary>
    /// <param name="exception">What the SDK threw.</param>
    /// <param name="operation">The Blob operation, e.g. "Put Block List".</param>
    /// <param name="target">The blob or container name (never a URI: it may carry a SAS).</param>
    /// <param name="container">Where the store points, for the "container does not exist" message.</param>
    public static BackupStoreException Translate(Exception exception, string operation, string target, string container)
    {
        if (exception is RequestFailedException { Status: > 0 } failed)
        {
            var message = $"{operation} '{target}' failed: HTTP {failed.Status} {failed.ErrorCode ?? Reason(failed)} (request id {RequestId(failed)})";
            return failed.Status switch
            {
                404 when failed.ErrorCode == "ContainerNotFound" => new BackupStoreException(
                    $"the container does not exist: {container}; create it with `{InitCommand}` ({message})", failed),
                404 => new BackupObjectNotFoundException(message, failed),
                409 when IsImmutabilityError(failed.ErrorCode) => new BackupObjectImmutableException($"{message}: the blob is under retention", failed),
                403 => new BackupStoreException(
                    $"{message}: access denied (check the credential, its role assignment or the SAS permissions and expiry)", failed),
                _ => new BackupStoreException(message, failed),
            };
        }

        return Transport(exception, operation, target);
    }

    /// <summary>Maps a fault below HTTP (connection refused or reset, timeouts after all retries).</summary>
    public static BackupStoreException Transport(Exception exception, string operation, string target)
    {
        var last = exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[^1] : exception;
        var after = exception is AggregateException agg ? $"after {agg.InnerExceptions.Count} tries" : "after retries";
        var kind = last is OperationCanceledException ? "timed out" : last.GetType().Name;
        return new($"{operation} '{target}' failed {after} ({kind}): {FirstLine(last.InnerException?.Message ?? last.Message)}", exception);
    }

    /// <summary>Runs one SDK call, translating its failures.</summary>
    public static async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, string operation, string target, string container,
        CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsServiceFault(ex, cancellationToken))
        {
            throw Translate(ex, operation, target, container);
        }
    }

    // Quoted to Azure support to trace one request.
    private static string RequestId(RequestFailedException failed) =>
        failed.GetRawResponse()?.Headers.RequestId ?? "none";

    // The SDK's message repeats status, headers and body over many lines; keep its first line only.
    private static string Reason(RequestFailedException failed) => FirstLine(failed.Message);

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline].TrimEnd('\r');
    }
}
