using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Drills;

/// <summary>Picks where a cluster's drills run: on its <c>Clusters:C:Drill:AgentUrl</c> agent when set, on this machine otherwise.</summary>
internal static class BackupDrills
{
    /// <summary>The drill of <paramref name="cluster"/>'s backups.</summary>
    /// <exception cref="InvalidOperationException">An agent is configured but no agent client is (Restore:AgentTls).</exception>
    public static IBackupDrill For(
        EtcdBackupOptions options, string cluster, IBackupStore store, IKeyStore keys, AgentClient? agents, DrillOptions local, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var agentUrl = options.Clusters.TryGetValue(cluster, out var settings) ? settings.Drill?.AgentUrl : null;
        if (string.IsNullOrWhiteSpace(agentUrl))
        {
            return new BackupDrill(store, keys, local, logger, time);
        }

        return agents is null
            ? throw new InvalidOperationException($"Clusters:{cluster}:Drill:AgentUrl is set, but the agent client is not: set Restore:AgentTls:CertFile and KeyFile")
            : new AgentBackupDrill(store, keys, agents, agentUrl, logger, time);
    }
}
