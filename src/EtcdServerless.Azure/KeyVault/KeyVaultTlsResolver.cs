using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure;
using Azure.Security.KeyVault.Secrets;
using EtcdServerless.Core.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Azure.KeyVault;

/// <summary>
/// Resolves <c>Clusters:*:Tls:{CaFile,CertFile,KeyFile}</c> and <c>Restore:AgentTls:{CaFile,CertFile,KeyFile}</c>
/// settings that hold Key Vault secret URIs (a Function App has no files to point at) into certificates,
/// once, at start. The PEM text never touches the disk: it is parsed in memory and only the resulting
/// <see cref="X509Certificate2"/> objects are kept. Settings that are file paths are left to the file readers.
/// </summary>
internal sealed class KeyVaultTlsResolver
{
    private readonly Func<Uri, SecretClient> _clientForVault;
    private readonly ILogger _logger;

    /// <param name="clientForVault">The <see cref="SecretClient"/> for a vault URI (one per vault; the app's managed identity).</param>
    /// <param name="logger">Logs which secrets were read (names and versions only, never values).</param>
    public KeyVaultTlsResolver(Func<Uri, SecretClient> clientForVault, ILogger<KeyVaultTlsResolver>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(clientForVault);
        _clientForVault = clientForVault;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>True when any TLS setting of <paramref name="options"/> names a Key Vault secret.</summary>
    public static bool IsNeeded(EtcdBackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Settings(options).Any(s => KeyVaultSecretReference.IsSecretUri(s.Value));
    }

    /// <summary>Reads every secret-URI TLS setting and builds the certificates.</summary>
    /// <exception cref="FormatException">A setting is an https URI but not a secret URI.</exception>
    /// <exception cref="InvalidOperationException">A certificate is given without its key (or the reverse), or a setting mixes a file and a secret.</exception>
    /// <exception cref="InvalidDataException">A secret does not hold the PEM it should.</exception>
    /// <exception cref="KeyNotFoundException">A secret (or version) does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">Key Vault denied the identity.</exception>
    public async Task<ResolvedTlsMaterial> ResolveAsync(EtcdBackupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cache = new Dictionary<string, string>(StringComparer.Ordinal);
        var clusters = new Dictionary<string, TlsMaterial>(StringComparer.Ordinal);
        TlsMaterial? agent = null;
        try
        {
            foreach (var (name, cluster) in options.Clusters ?? [])
            {
                var tls = cluster?.Tls;
                if (tls is not null
                    && await ResolveOneAsync($"Clusters:{name}:Tls", tls.CaFile, tls.CertFile, tls.KeyFile, cache, cancellationToken).ConfigureAwait(false) is { } material)
                {
                    clusters.Add(name, material);
                }
            }

            var agentTls = options.Restore?.AgentTls;
            if (agentTls is not null)
            {
                agent = await ResolveOneAsync("Restore:AgentTls", agentTls.CaFile, agentTls.CertFile, agentTls.KeyFile, cache, cancellationToken).ConfigureAwait(false);
            }

            return new ResolvedTlsMaterial(clusters, agent);
        }
        catch
        {
            foreach (var material in clusters.Values)
            {
                material.Dispose();
            }

            agent?.Dispose();
            throw;
        }
    }

    private static IEnumerable<KeyValuePair<string, string?>> Settings(EtcdBackupOptions options)
    {
        foreach (var (name, cluster) in options.Clusters ?? [])
        {
            yield return new($"Clusters:{name}:Tls:CaFile", cluster?.Tls?.CaFile);
            yield return new($"Clusters:{name}:Tls:CertFile", cluster?.Tls?.CertFile);
            yield return new($"Clusters:{name}:Tls:KeyFile", cluster?.Tls?.KeyFile);
        }

        yield return new("Restore:AgentTls:CaFile", options.Restore?.AgentTls?.CaFile);
        yield return new("Restore:AgentTls:CertFile", options.Restore?.AgentTls?.CertFile);
        yield return new("Restore:AgentTls:KeyFile", options.Restore?.AgentTls?.KeyFile);
    }

    private async Task<TlsMaterial?> ResolveOneAsync(
        string prefix, string? caFile, string? certFile, string? keyFile, Dictionary<string, string> cache, CancellationToken cancellationToken)
    {
        var caIsSecret = KeyVaultSecretReference.IsSecretUri(caFile);
        var certIsSecret = KeyVaultSecretReference.IsSecretUri(certFile);
        var keyIsSecret = KeyVaultSecretReference.IsSecretUri(keyFile);
        if (!caIsSecret && !certIsSecret && !keyIsSecret)
        {
            return null;
        }

        // One source per section: the etcd client and the agent client get either files or certificates.
        if (!string.IsNullOrEmpty(caFile) && !caIsSecret || !string.IsNullOrEmpty(certFile) && !certIsSecret || !string.IsNullOrEmpty(keyFile) && !keyIsSecret)
        {
            throw new InvalidOperationException($"{prefix}: CaFile, CertFile and KeyFile must all be Key Vault secret URIs or all be files, not a mix.");
        }

        if (certIsSecret != keyIsSecret)
        {
            throw new InvalidOperationException($"{prefix}: a client certificate needs both CertFile and KeyFile.");
        }

        var caPem = caIsSecret ? await ReadAsync($"{prefix}:CaFile", caFile!, cache, cancellationToken).ConfigureAwait(false) : null;
        var certPem = certIsSecret ? await ReadAsync($"{prefix}:CertFile", certFile!, cache, cancellationToken).ConfigureAwait(false) : null;
        var keyPem = keyIsSecret ? await ReadAsync($"{prefix}:KeyFile", keyFile!, cache, cancellationToken).ConfigureAwait(false) : null;

        var trusted = caPem is null ? null : ParseCa($"{prefix}:CaFile", caPem);
        try
        {
            var client = certPem is null ? null : ParseClientCertificate(prefix, certPem, keyPem!);
            return new TlsMaterial(trusted, client);
        }
        catch
        {
            foreach (var certificate in trusted ?? [])
            {
                certificate.Dispose();
            }

            throw;
        }
    }

    private async Task<string> ReadAsync(string key, string value, Dictionary<string, string> cache, CancellationToken cancellationToken)
    {
        var reference = KeyVaultSecretReference.Parse(key, value);
        var id = reference.ToString();
        if (cache.TryGetValue(id, out var cached))
        {
            return cached;
        }

        var client = _clientForVault(reference.VaultUri);
        try
        {
            var response = await client.GetSecretAsync(reference.Name, reference.Version, cancellationToken).ConfigureAwait(false);
            var text = response.Value.Value;
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new InvalidDataException($"{key}: secret {id} is empty.");
            }

            _logger.TlsSecretRead(key, reference.Name, response.Value.Properties.Version ?? "", reference.VaultUri);
            cache[id] = text;
            return text;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new KeyNotFoundException($"{key}: secret {id} does not exist.", ex);
        }
        catch (RequestFailedException ex) when (ex.Status is 401 or 403)
        {
            throw new UnauthorizedAccessException(
                $"{key}: Key Vault denied access ({ex.Status} {ex.ErrorCode}) to secret {id}: grant this identity 'Key Vault Secrets User' on that secret, and check the vault's firewall.", ex);
        }
        catch (RequestFailedException ex)
        {
            throw new InvalidOperationException($"{key}: Key Vault failed to read secret {id}: HTTP {ex.Status} {ex.ErrorCode}.", ex);
        }
    }

    private static X509Certificate2Collection ParseCa(string key, string pem)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidDataException($"{key}: the secret is not a PEM certificate bundle.", ex);
        }

        return collection.Count > 0 ? collection : throw new InvalidDataException($"{key}: the secret holds no PEM certificate.");
    }

    private static X509Certificate2 ParseClientCertificate(string prefix, string certificatePem, string keyPem)
    {
        try
        {
            using var fromPem = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            // A PEM import gives an ephemeral key, which SslStream cannot use on every platform (Windows).
            return X509CertificateLoader.LoadPkcs12(fromPem.Export(X509ContentType.Pkcs12), password: null);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // ArgumentException: a key that does not match the certificate. The message never quotes the
            // secret: it may be a private key.
            throw new InvalidDataException($"{prefix}: CertFile and KeyFile secrets are not a matching PEM certificate and private key.", ex);
        }
    }
}
