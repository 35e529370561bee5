using Azure;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Azure.Blob;

/// <summary>Translates Blob service answers and transport faults into the store's few exceptions.</summary>
internal static class BlobErrors
{
    /// <summary>The service's error code (<c>x-ms-error-code</c>), when it sent one.</summary>
    public static string? ErrorCode(Response response) =>
        response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : null;

    /// <summary>The service's request id (<c>x-ms-request-id</c>) to quote to support.</summary>
    public static string RequestId(Response response) =>
        response.Headers.TryGetValue("x-ms-request-id", out var id) ? id : "none";

    /// <summary>True when the error code says retention or a legal hold blocks the operation.</summary>
    public static bool IsImmutabilityError(string? errorCode) =>
        errorCode is not null
        && (errorCode.Contains("Immutab", StringComparison.OrdinalIgnoreCase)
            || errorCode.Contains("LegalHold", StringComparison.OrdinalIgnoreCase));

    /// <summary>Describes a failed answer: operation, blob, status, error code, request id. Never a URI (it may carry a SAS).</summary>
    public static string Describe(Response response, string operation, string blob) =>
        $"{operation} '{blob}' failed: HTTP {response.Status} {ErrorCode(response) ?? response.ReasonPhrase} (request id {RequestId(response)})";

    /// <summary>Maps a failed answer to the store's exception, keeping Azure.Core's exception as the inner one.</summary>
    public static BackupStoreException FromResponse(Response response, string operation, string blob)
    {
        var code = ErrorCode(response);
        var inner = new RequestFailedException(response);
        var message = Describe(response, operation, blob);
        return response.Status switch
        {
            404 when code == "ContainerNotFound" => new BackupStoreException($"{message}: the container does not exist", inner),
            404 => new BackupObjectNotFoundException(message, inner),
            409 when IsImmutabilityError(code) => new BackupObjectImmutableException($"{message}: the blob is under retention", inner),
            403 => new BackupStoreException($"{message}: access denied (check the credential, its role assignment or the SAS permissions and expiry)", inner),
            _ => new BackupStoreException(message, inner),
        };
    }

    /// <summary>Maps a fault below HTTP (connection refused or reset, timeout after all retries).</summary>
    public static BackupStoreException Transport(Exception exception, string operation, string blob)
    {
        var last = exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[^1] : exception;
        var after = exception is AggregateException agg ? $"after {agg.InnerExceptions.Count} tries" : "after retries";
        var kind = last is OperationCanceledException ? "timed out" : last.GetType().Name;
        return new($"{operation} '{blob}' failed {after} ({kind}): {FirstLine(last.InnerException?.Message ?? last.Message)}", exception);
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline].TrimEnd('\r');
    }
}
