using Microsoft.Extensions.Logging;

namespace EtcdServerless.S3;

/// <summary>Source-generated logs of the S3 store. Event ids 4100-4199.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "S3 store {Store}: conditional writes {ConditionalWrites}, Object Lock {ObjectLock}")]
    public static partial void Capabilities(this ILogger logger, string store, string conditionalWrites, string objectLock);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "S3 store {Store} has no Object Lock ({Detail}); retention is enforced by this tool only, not by the bucket")]
    public static partial void ObjectLockNotSupported(this ILogger logger, string store, string detail);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "S3 endpoint {Store} ignores If-None-Match on writes; commits use a lock object (safe only on a strongly consistent endpoint)")]
    public static partial void ConditionalWritesNotSupported(this ILogger logger, string store);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Debug, Message = "Uploaded part {PartNumber} ({Bytes} bytes) of {Key}")]
    public static partial void PartUploaded(this ILogger logger, int partNumber, int bytes, string key);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "Committed {Key}: {Bytes} bytes in {Parts} parts")]
    public static partial void Committed(this ILogger logger, string key, long bytes, int parts);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "Could not abort the multipart upload of {Key}; a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes its parts")]
    public static partial void AbortFailed(this ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Information, Message = "Deleted {Key}")]
    public static partial void Deleted(this ILogger logger, string key);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Debug, Message = "Commit lock on {Key} is busy; retrying (attempt {Attempt})")]
    public static partial void LockBusy(this ILogger logger, string key, int attempt);

    [LoggerMessage(EventId = 4108, Level = LogLevel.Information, Message = "Created bucket {Bucket}")]
    public static partial void BucketCreated(this ILogger logger, string bucket);
}
