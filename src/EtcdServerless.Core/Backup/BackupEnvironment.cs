using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Backup;

/// <summary>The services backup activities use (one bundle, so hosts register one thing).</summary>
internal sealed class BackupEnvironment
{
    public BackupEnvironment(
        EtcdBackupOptions options,
        IBackupStore store,
        IKeyStore keys,
        IEtcdClientFactory? clients = null,
        BackupPipelineOptions? pipeline = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        Options = options;
        Store = store;
        Keys = keys;
        Clients = clients ?? new EtcdClientFactory();
        Pipeline = pipeline ?? new BackupPipelineOptions();
        Time = timeProvider ?? TimeProvider.System;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    public EtcdBackupOptions Options { get; }

    public IBackupStore Store { get; }

    public IKeyStore Keys { get; }

    public IEtcdClientFactory Clients { get; }

    public BackupPipelineOptions Pipeline { get; }

    public TimeProvider Time { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Where snapshots are staged.</summary>
    public string TempDirectory => Pipeline.TempDirectory ?? Path.GetTempPath();

    /// <summary>The cluster's configuration, or null when it is not configured.</summary>
    public ClusterOptions? FindCluster(string cluster) =>
        Options.Clusters.TryGetValue(cluster, out var options) ? options : null;
}

/// <summary>Creates etcd clients for a cluster's members with the cluster's TLS and auth settings.</summary>
internal interface IEtcdClientFactory
{
    /// <summary>The client options (TLS material, credentials) for one member endpoint of <paramref name="cluster"/>.</summary>
    EtcdClientOptions CreateOptions(ClusterOptions cluster, Uri endpoint);

    /// <summary>A client for one member endpoint of <paramref name="cluster"/>.</summary>
    EtcdClient Create(ClusterOptions cluster, Uri endpoint, ILogger? logger = null) => new(CreateOptions(cluster, endpoint), logger);
}

/// <summary>A cluster's TLS material held in memory (resolved from Key Vault at start): CA roots and/or a client certificate.</summary>
internal sealed record ClusterTlsCertificates(X509Certificate2Collection? TrustedCa, X509Certificate2? ClientCertificate);

/// <summary>
/// The default factory: TLS material by file, or in memory for the clusters given (by their
/// <see cref="ClusterOptions"/> instance), password inline or from a file.
/// </summary>
internal sealed class EtcdClientFactory : IEtcdClientFactory
{
    private readonly IReadOnlyDictionary<ClusterOptions, ClusterTlsCertificates> _inMemory;

    /// <param name="inMemoryTls">
    /// Clusters whose Tls settings were resolved into certificates; their file settings (secret URIs) are then
    /// ignored. Keyed by reference: the <see cref="ClusterOptions"/> instances of the options in use.
    /// </param>
    public EtcdClientFactory(IReadOnlyDictionary<ClusterOptions, ClusterTlsCertificates>? inMemoryTls = null)
    {
        _inMemory = inMemoryTls ?? new Dictionary<ClusterOptions, ClusterTlsCertificates>(ReferenceEqualityComparer.Instance);
    }

    public EtcdClientOptions CreateOptions(ClusterOptions cluster, Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!_inMemory.TryGetValue(cluster, out var certificates) && IsSecretUri(cluster.Tls))
        {
            // Without this, a secret URI would reach the channel as a file name and fail as "file not found".
            throw new InvalidOperationException(
                "Clusters:*:Tls holds Key Vault secret URIs that were not resolved: only the Function App reads them (at start); elsewhere give PEM files.");
        }

        var password = cluster.Auth.Password;
        if (password is null && cluster.Auth.PasswordFile is { Length: > 0 } file)
        {
            password = File.ReadAllText(file).TrimEnd('\r', '\n');
        }

        return new EtcdClientOptions
        {
            Endpoint = endpoint,
            CaFile = certificates is null ? cluster.Tls.CaFile : null,
            CertFile = certificates is null ? cluster.Tls.CertFile : null,
            KeyFile = certificates is null ? cluster.Tls.KeyFile : null,
            TrustedCa = certificates?.TrustedCa,
            ClientCertificate = certificates?.ClientCertificate,
            Username = string.IsNullOrEmpty(cluster.Auth.Username) ? null : cluster.Auth.Username,
            Password = string.IsNullOrEmpty(cluster.Auth.Username) ? null : password,
        };
    }

    private static bool IsSecretUri(TlsOptions tls) =>
        EtcdBackupConfiguration.IsSecretUri(tls.CaFile) || EtcdBackupConfiguration.IsSecretUri(tls.CertFile) || EtcdBackupConfiguration.IsSecretUri(tls.KeyFile);
}
