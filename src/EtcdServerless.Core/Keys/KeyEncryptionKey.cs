using System.Security.Cryptography;

namespace EtcdServerless.Core.Keys;

/// <summary>
/// One version of a 256-bit key-encryption key. Holds key material: never log it, dispose it when done
/// (the bytes are zeroed).
/// </summary>
public sealed class KeyEncryptionKey : IDisposable
{
    /// <summary>Length of the key material in bytes (AES-256).</summary>
    public const int KeySizeBytes = 32;

    private readonly byte[] _material;
    private bool _disposed;

    public KeyEncryptionKey(string keyId, string version, ReadOnlySpan<byte> material)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentException.ThrowIfNullOrEmpty(version);
        if (material.Length != KeySizeBytes)
        {
            throw new ArgumentException($"A key-encryption key must be {KeySizeBytes} bytes, got {material.Length}.", nameof(material));
        }

        KeyId = keyId;
        Version = version;
        _material = material.ToArray();
    }

    /// <summary>The key's name (stable across rotations).</summary>
    public string KeyId { get; }

    /// <summary>The version of this key material.</summary>
    public string Version { get; }

    /// <summary>The raw key bytes. Valid until disposal.</summary>
    public ReadOnlySpan<byte> Material
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _material;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{KeyId}/{Version}";

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_disposed)
        {
            CryptographicOperations.ZeroMemory(_material);
            _disposed = true;
        }
    }
}
