using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.S3;

/// <summary>Translates SDK faults into the store's own exceptions at the boundary, keeping the SDK's as inner.</summary>
internal static class S3Errors
{
    public static bool IsNotFound(AmazonS3Exception ex) =>
        ex.StatusCode == HttpStatusCode.NotFound || ex.ErrorCode is "NoSuchKey" or "NotFound";

    // 412: If-None-Match lost to an existing object; 409: a concurrent conditional write is in flight.
    public static bool IsExists(AmazonS3Exception ex) =>
        ex.StatusCode is HttpStatusCode.PreconditionFailed || ex.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict";

    public static bool IsNotImplemented(AmazonS3Exception ex) =>
        ex.StatusCode is HttpStatusCode.NotImplemented || ex.ErrorCode is "NotImplemented";

    public static Exception Translate(Exception ex, string operation, string name, string store) => ex switch
    {
        AmazonS3Exception s3 when IsNotFound(s3) && s3.ErrorCode == "NoSuchBucket" =>
            new BackupStoreException($"{operation} '{name}': the bucket of {store} does not exist; create it first (etcd-backup store init).", ex),
        AmazonS3Exception s3 when IsNotFound(s3) => new BackupObjectNotFoundException($"Object '{name}' not found in {store}.", ex),
        AmazonS3Exception s3 when IsExists(s3) => new BackupObjectExistsException($"Object '{name}' already exists in {store} (write-once store).", ex),
        AmazonS3Exception s3 => new BackupStoreException($"{operation} '{name}' in {store} failed: {(int)s3.StatusCode} {s3.ErrorCode}.", ex),
        AmazonServiceException service => new BackupStoreException($"{operation} '{name}' in {store} failed: {(int)service.StatusCode} {service.ErrorCode}.", ex),
        AmazonClientException or HttpRequestException or IOException =>
            new BackupStoreException($"{operation} '{name}' in {store} failed: {ex.Message}", ex),
        _ => ex,
    };

    /// <summary>True for the faults <see cref="Translate"/> maps (so callers can filter with <c>when</c>).</summary>
    public static bool IsTransport(Exception ex) => ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException;
}
