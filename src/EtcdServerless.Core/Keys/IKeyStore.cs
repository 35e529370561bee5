namespace EtcdServerless.Core.Keys;

/// <summary>
/// Holds key-encryption keys (KEKs), never beside the data: a local key directory (embedded default) or
/// Azure Key Vault secrets. Each rotation adds a version; old versions stay readable for old backups.
/// </summary>
public interface IKeyStore
{
    /// <summary>A short, secret-free description (e.g. <c>file:///etc/etcd-backup/keys</c> or the vault secret URI).</summary>
    string Description { get; }

    /// <summary>The current KEK version. Throws <see cref="KeyNotFoundException"/> (with a hint to run <c>keys init</c>) when none exists.</summary>
    Task<KeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default);

    /// <summary>A specific KEK version. Throws <see cref="KeyNotFoundException"/> when it does not exist.</summary>
    Task<KeyEncryptionKey> GetAsync(string keyId, string version, CancellationToken cancellationToken = default);

    /// <summary>Creates the first version when none exists, otherwise returns the current one.</summary>
    Task<KeyEncryptionKey> InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a new current version; previous versions remain readable.</summary>
    Task<KeyEncryptionKey> RotateAsync(CancellationToken cancellationToken = default);

    /// <summary>Lists the versions of the key, oldest first.</summary>
    Task<IReadOnlyList<KeyVersionInfo>> ListVersionsAsync(CancellationToken cancellationToken = default);
}

/// <summary>Identity of one KEK version, without key material.</summary>
public sealed record KeyVersionInfo(string KeyId, string Version, DateTimeOffset Created);
