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

/// <summary>The default factory: TLS material by file, password inline or from a file.</summary>
internal sealed class EtcdClientFactory : IEtcdClientFactory
{
    public EtcdClientOptions CreateOptions(ClusterOptions cluster, Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(endpoint);
        var password = cluster.Auth.Password;
        if (password is null && cluster.Auth.PasswordFile is { Length: > 0 } file)
        {
            password = File.ReadAllText(file).TrimEnd('\r', '\n');
        }

        return new EtcdClientOptions
        {
            Endpoint = endpoint,
            CaFile = cluster.Tls.CaFile,
            CertFile = cluster.Tls.CertFile,
            KeyFile = cluster.Tls.KeyFile,
            Username = string.IsNullOrEmpty(cluster.Auth.Username) ? null : cluster.Auth.Username,
            Password = string.IsNullOrEmpty(cluster.Auth.Username) ? null : password,
        };
    }
}
