using System.Security.Cryptography;
using Azure;
using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using EtcdServerless.Core.Keys;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Azure.KeyVault;

/// <summary>
/// <see cref="IKeyStore"/> on Azure Key Vault secrets: the KEK is one secret whose value is the base64 of 32
/// random bytes (content type <see cref="ContentType"/>); every rotation is a new secret version and the KEK
/// version is Key Vault's version id, so old backups keep naming the exact version that wrapped their DEK.
/// </summary>
/// <remarks>
/// Needs "Key Vault Secrets Officer" to initialize or rotate and "Key Vault Secrets User" to read. Enable purge
/// protection on the vault so no retained backup can outlive its key.
/// </remarks>
internal sealed class KeyVaultKeyStore : IKeyStore
{
    /// <summary>The content type marking a secret as one of our KEKs.</summary>
    public const string ContentType = "application/vnd.etcdserverless.kek+base64";

    private readonly SecretClient _client;
    private readonly string _secretName;
    private readonly ILogger _logger;

    /// <summary>Creates a store over an existing <see cref="SecretClient"/> (tests inject one pointed at a fake vault).</summary>
    public KeyVaultKeyStore(SecretClient client, string secretName, ILogger<KeyVaultKeyStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(secretName);
        _client = client;
        _secretName = secretName;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Creates a store for <c>https://vault.vault.azure.net/secrets/name</c> with the given credential.</summary>
    public static KeyVaultKeyStore FromUri(Uri secretUri, TokenCredential credential, SecretClientOptions? options = null, ILogger<KeyVaultKeyStore>? logger = null)
    {
        var address = KeyVaultSecretUri.Parse(secretUri);
        return new KeyVaultKeyStore(new SecretClient(address.VaultUri, credential, options ?? new SecretClientOptions()), address.SecretName, logger);
    }

    /// <inheritdoc/>
    public string Description => $"{_client.VaultUri.ToString().TrimEnd('/')}/secrets/{_secretName}";

    /// <inheritdoc/>
    public async Task<KeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default) =>
        await GetVersionAsync(version: null, cancellationToken).ConfigureAwait(false)
        ?? throw new KeyNotFoundException($"No key-encryption key exists at {Description}; run 'etcd-backup keys init' first.");

    /// <inheritdoc/>
    public async Task<KeyEncryptionKey> GetAsync(string keyId, string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentException.ThrowIfNullOrEmpty(version);
        if (!string.Equals(keyId, _secretName, StringComparison.OrdinalIgnoreCase))
        {
            throw new KeyNotFoundException($"Key '{keyId}' is not held by {Description}.");
        }

        if (!version.All(char.IsAsciiLetterOrDigit))
        {
            throw new KeyNotFoundException($"'{version}' is not a Key Vault secret version.");
        }

        return await GetVersionAsync(version, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"Version {version} of key '{keyId}' does not exist at {Description}.");
    }

    /// <inheritdoc/>
    /// <remarks>Two first runs racing may both create a version; the later one simply becomes current, both stay readable.</remarks>
    public async Task<KeyEncryptionKey> InitializeAsync(CancellationToken cancellationToken = default) =>
        await GetVersionAsync(version: null, cancellationToken).ConfigureAwait(false)
        ?? await CreateVersionAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public Task<KeyEncryptionKey> RotateAsync(CancellationToken cancellationToken = default) => CreateVersionAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<KeyVersionInfo>> ListVersionsAsync(CancellationToken cancellationToken = default)
    {
        var versions = new List<KeyVersionInfo>();
        try
        {
            await foreach (var properties in _client.GetPropertiesOfSecretVersionsAsync(_secretName, cancellationToken).ConfigureAwait(false))
            {
                if (properties.Version is { Length: > 0 } version && string.Equals(properties.ContentType, ContentType, StringComparison.Ordinal))
                {
                    versions.Add(new KeyVersionInfo(_secretName, version, properties.CreatedOn ?? DateTimeOffset.MinValue));
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "list the versions of");
        }

        // Created has one-second resolution; OrderBy is stable, so ties keep the service's order.
        return [.. versions.OrderBy(v => v.Created)];
    }

    private async Task<KeyEncryptionKey?> GetVersionAsync(string? version, CancellationToken cancellationToken)
    {
        KeyVaultSecret secret;
        try
        {
            secret = (await _client.GetSecretAsync(_secretName, version, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "read");
        }

        return ToKey(secret);
    }

    private async Task<KeyEncryptionKey> CreateVersionAsync(CancellationToken cancellationToken)
    {
        var material = RandomNumberGenerator.GetBytes(KeyEncryptionKey.KeySizeBytes);
        try
        {
            var secret = new KeyVaultSecret(_secretName, Convert.ToBase64String(material));
            secret.Properties.ContentType = ContentType;
            secret.Properties.Tags["purpose"] = "etcd-backup-kek";
            var stored = (await _client.SetSecretAsync(secret, cancellationToken).ConfigureAwait(false)).Value;
            var version = stored.Properties.Version
                ?? throw new InvalidDataException($"Key Vault returned no version for {Description}.");
            _logger.KeyVersionCreated(_secretName, version, _client.VaultUri);
            return new KeyEncryptionKey(_secretName, version, material);
        }
        catch (RequestFailedException ex)
        {
            throw Translate(ex, "write");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private KeyEncryptionKey ToKey(KeyVaultSecret secret)
    {
        var version = secret.Properties.Version;
        if (string.IsNullOrEmpty(version))
        {
            throw new InvalidDataException($"Key Vault returned {Description} without a version.");
        }

        if (!string.Equals(secret.Properties.ContentType, ContentType, StringComparison.Ordinal))
        {
            // Guards against pointing the tool at an unrelated secret and using it as key material.
            throw new InvalidDataException($"{Description} version {version} has content type '{secret.Properties.ContentType}', expected '{ContentType}'.");
        }

        var material = new byte[KeyEncryptionKey.KeySizeBytes];
        try
        {
            if (!Convert.TryFromBase64String(secret.Value ?? "", material, out var written) || written != KeyEncryptionKey.KeySizeBytes)
            {
                throw new InvalidDataException($"{Description} version {version} does not hold base64 of {KeyEncryptionKey.KeySizeBytes} bytes.");
            }

            return new KeyEncryptionKey(_secretName, version, material);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private Exception Translate(RequestFailedException ex, string action) => ex.Status switch
    {
        401 or 403 => new UnauthorizedAccessException(
            $"Key Vault denied access ({ex.Status} {ex.ErrorCode}) to {action} {Description}: grant this identity " +
            "'Key Vault Secrets User' (read) or 'Key Vault Secrets Officer' (init/rotate) on the vault, and check its firewall.", ex),
        _ => new InvalidOperationException($"Key Vault failed to {action} {Description}: HTTP {ex.Status} {ex.ErrorCode}.", ex),
    };
}
