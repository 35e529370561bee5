using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Workflows.Http;

/// <summary>Turns an API or CLI restore request into the orchestration's input, with the cluster's configured members as the default targets.</summary>
internal static class RestoreRequests
{
    /// <summary>Maps and validates; throws <see cref="ArgumentException"/> naming the field.</summary>
    public static RestoreRequest Create(EtcdBackupOptions options, RestoreApiRequest request)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(request);
        var cluster = options.GetCluster(request.Cluster);
        IReadOnlyList<RestoreTargetMember> members = request.Members.Count > 0
            ? [.. request.Members.Select(m => new RestoreTargetMember { Name = m.Name!, PeerUrl = m.PeerUrl!, ClientUrl = m.ClientUrl!, AgentUrl = m.AgentUrl! })]
            : [.. cluster.Members.Select(m => new RestoreTargetMember { Name = m.Name, PeerUrl = m.PeerUrl, ClientUrl = m.ClientUrl, AgentUrl = m.AgentUrl })];
        if (members.Count == 0)
        {
            throw new ArgumentException($"cluster '{request.Cluster}' has no members to restore into: configure Clusters:{request.Cluster}:Members or pass members", nameof(request));
        }

        var restore = new RestoreRequest
        {
            Cluster = request.Cluster,
            Backup = request.Backup,
            Members = members,
            Token = request.NewClusterToken,
            DryRun = request.DryRun,
            Confirm = request.Confirm,
            Reason = request.Reason,
            ForceVersion = request.ForceVersion,
            RestoreBundle = request.RestoreBundle,
            ToRevision = request.ToRevision,
            ToTime = request.ToTime,
        };
        restore.Validate();
        return restore;
    }

    /// <summary>True when the orchestrator's client certificate for the agents' mutual TLS is configured.</summary>
    public static bool AreConfigured(EtcdBackupOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tls = options.Restore.AgentTls;
        return !string.IsNullOrEmpty(tls.CertFile) && !string.IsNullOrEmpty(tls.KeyFile);
    }

    /// <summary>The one-line reason restores are refused when <see cref="AreConfigured"/> is false.</summary>
    public const string NotConfiguredMessage =
        "restores are not configured: set Restore:AgentTls:CertFile and Restore:AgentTls:KeyFile (the client certificate the member agents trust)";
}
