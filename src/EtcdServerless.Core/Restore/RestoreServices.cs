using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
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

    /// <summary>How long verification waits for the restored cluster to elect a leader and agree.</summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
