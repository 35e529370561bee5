using System.Security.Cryptography;

namespace EtcdServerless.Core.Crypto;

/// <summary>A sealed artifact could not be opened: it is malformed, tampered with, truncated or needs another key.</summary>
public class EnvelopeException : CryptographicException
{
    public EnvelopeException() { }

    public EnvelopeException(string message) : base(message) { }

    public EnvelopeException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The bytes are not an envelope this version understands (bad magic, unsupported version, malformed header).</summary>
public sealed class EnvelopeFormatException : EnvelopeException
{
    public EnvelopeFormatException() { }

    public EnvelopeFormatException(string message) : base(message) { }

    public EnvelopeFormatException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The header does not authenticate under the right key: it was modified.</summary>
public sealed class EnvelopeHeaderTamperedException : EnvelopeException
{
    public EnvelopeHeaderTamperedException() : base("envelope header tampered: the wrapped data key does not authenticate") { }

    public EnvelopeHeaderTamperedException(string message) : base(message) { }

    public EnvelopeHeaderTamperedException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The key-encryption key offered is not the one the artifact was sealed with.</summary>
public sealed class EnvelopeWrongKeyException : EnvelopeException
{
    public EnvelopeWrongKeyException() { }

    public EnvelopeWrongKeyException(string message) : base(message) { }

    public EnvelopeWrongKeyException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>The key store has no KEK with the id and version named in the header.</summary>
public sealed class EnvelopeKeyNotFoundException : EnvelopeException
{
    public EnvelopeKeyNotFoundException() { }

    public EnvelopeKeyNotFoundException(string message) : base(message) { }

    public EnvelopeKeyNotFoundException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A body chunk failed AES-GCM authentication (modified, reordered or spliced from another artifact).</summary>
public sealed class EnvelopeChunkAuthenticationException : EnvelopeException
{
    public EnvelopeChunkAuthenticationException() { }

    public EnvelopeChunkAuthenticationException(string message) : base(message) { }

    public EnvelopeChunkAuthenticationException(string message, Exception? innerException) : base(message, innerException) { }

    public EnvelopeChunkAuthenticationException(long chunkIndex)
        : base($"chunk {chunkIndex} failed authentication (the artifact is corrupted, reordered or truncated mid-chunk)")
    {
        ChunkIndex = chunkIndex;
    }

    /// <summary>Zero-based index of the chunk.</summary>
    public long ChunkIndex { get; }
}

/// <summary>The artifact ends before its final chunk.</summary>
public sealed class EnvelopeTruncatedException : EnvelopeException
{
    public EnvelopeTruncatedException() { }

    public EnvelopeTruncatedException(string message) : base(message) { }

    public EnvelopeTruncatedException(string message, Exception? innerException) : base(message, innerException) { }

    public EnvelopeTruncatedException(long chunksRead)
        : base(chunksRead == 0
            ? "artifact truncated after the header (no final chunk)"
            : $"artifact truncated after chunk {chunksRead - 1} (no final chunk)")
    {
        ChunksRead = chunksRead;
    }

    /// <summary>How many whole chunks authenticated before the end.</summary>
    public long ChunksRead { get; }
}

/// <summary>Bytes follow the final chunk (something was appended).</summary>
public sealed class EnvelopeTrailingDataException : EnvelopeException
{
    public EnvelopeTrailingDataException() : base("data after final chunk") { }

    public EnvelopeTrailingDataException(string message) : base(message) { }

    public EnvelopeTrailingDataException(string message, Exception? innerException) : base(message, innerException) { }
}
