using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Restore;

/// <summary>What the restore activities need: the store, the keys, the configuration (cluster TLS) and the agent client.</summary>
internal sealed class RestoreServices(IBackupStore store, IKeyStore keys, EtcdBackupOptions options, AgentClient agents, TimeProvider? time = null, ILoggerFactory? loggers = null)
{
    public IBackupStore Store { get; } = store;

    public IKeyStore Keys { get; } = keys;

    public EtcdBackupOptions Options { get; } = options;

    public AgentClient Agents { get; } = agents;

    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    public ILoggerFactory Loggers { get; } = loggers ?? NullLoggerFactory.Instance;

    /// <summary>Builds etcd clients for the restored members (the composition's factory, so Key Vault TLS applies).</summary>
    public IEtcdClientFactory Clients { get; init; } = new EtcdClientFactory();

    /// <summary>
    /// Client options for one member of <paramref name="cluster"/> at <paramref name="clientUrl"/>: the cluster's TLS and
    /// credentials through <see cref="Clients"/> when it is configured, a 2 s dial and <paramref name="callTimeout"/> per call.
    /// </summary>
    public EtcdClientOptions MemberClientOptions(string cluster, string clientUrl, TimeSpan callTimeout)
    {
        var endpoint = new Uri(clientUrl);
        var options = Options.Clusters.TryGetValue(cluster, out var settings) ? Clients.CreateOptions(settings, endpoint) : new EtcdClientOptions { Endpoint = endpoint };
        return options with { DialTimeout = TimeSpan.FromSeconds(2), CallTimeout = callTimeout };
    }

    /// <summary>How long verification waits for the restored cluster to elect a leader and agree.</summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
