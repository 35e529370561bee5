using Microsoft.Extensions.Logging;

namespace EtcdServerless.Azure;

/// <summary>Source-generated logs of the Azure project. Event ids 4000-4099.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "Staged block {BlockIndex} ({Bytes} bytes) of blob {Blob}")]
    public static partial void BlockStaged(this ILogger logger, int blockIndex, int bytes, string blob);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Committed blob {Blob}: {Bytes} bytes in {Blocks} blocks")]
    public static partial void BlobCommitted(this ILogger logger, string blob, long bytes, int blocks);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Immutability not supported by this endpoint ({Operation} on {Blob}: {Status} {ErrorCode}); the blob is NOT protected against deletion")]
    public static partial void ImmutabilityNotSupported(this ILogger logger, string operation, string blob, int status, string? errorCode);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Abandoned uncommitted blob {Blob} after {Blocks} staged blocks; the service discards them")]
    public static partial void WriteAbandoned(this ILogger logger, string blob, int blocks);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Deleted blob {Blob}")]
    public static partial void BlobDeleted(this ILogger logger, string blob);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Could not remove blob {Blob} after its immutability policy failed")]
    public static partial void RollbackFailed(this ILogger logger, Exception exception, string blob);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Store {Store} initialized (container created: {Created}, immutability found: {Protected})")]
    public static partial void StoreInitialized(this ILogger logger, string store, bool created, bool @protected);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Information, Message = "Created key-encryption key {KeyId} version {Version} in {Vault}")]
    public static partial void KeyVersionCreated(this ILogger logger, string keyId, string version, Uri vault);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Read TLS material for {Setting} from Key Vault secret {SecretName} version {Version} in {Vault}")]
    public static partial void TlsSecretRead(this ILogger logger, string setting, string secretName, string version, Uri vault);
}
