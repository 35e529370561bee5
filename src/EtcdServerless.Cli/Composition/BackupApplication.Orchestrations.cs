using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Cli.Composition;

internal sealed partial class BackupApplication
{
    private AgentClient? _agents;

    /// <summary>The instance id prefix of restores; one restore per cluster runs at a time.</summary>
    private static string RestoreConcurrencyKey(string cluster) => $"restore:{cluster}";

    /// <inheritdoc/>
    public Task<OrchestrationStartResult> StartRestoreAsync(RestoreApiRequest request, CancellationToken cancellationToken = default) =>
        _agents is null
            ? throw new InvalidOperationException("restores are not configured: set Restore:AgentTls:CertFile and Restore:AgentTls:KeyFile (the client certificate the member agents trust)")
            : Runner.StartAsync(RestoreOrchestration.OrchestrationName, null, ToRestoreRequest(request), RestoreConcurrencyKey(request.Cluster), cancellationToken);

    /// <summary>Maps an API/CLI request to the orchestration input; no members given = the cluster's configured members.</summary>
    public RestoreRequest ToRestoreRequest(RestoreApiRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var cluster = Options.GetCluster(request.Cluster);
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
        };
        restore.Validate();
        return restore;
    }

    private void RegisterOrchestrations(OrchestrationRegistry registry)
    {
        registry.AddBackup(Environment);
        var tls = Options.Restore.AgentTls;
        if (string.IsNullOrEmpty(tls.CertFile) || string.IsNullOrEmpty(tls.KeyFile))
        {
            // Restores need the orchestrator's client certificate for the agents' mutual TLS; backups do not.
            return;
        }

        _agents = new AgentClient(new AgentClientOptions
        {
            CertFile = tls.CertFile,
            KeyFile = tls.KeyFile,
            CaFile = tls.CaFile,
            ServerThumbprints = [.. tls.ServerThumbprints],
            TimeoutSeconds = tls.TimeoutSeconds,
        });
        new RestoreServices(Store, Keys, Options, _agents, Time, _loggerFactory).Register(registry);
    }

    /// <summary>Downloads, decrypts and re-checks the backup against its manifest (hashes, bbolt structure, revision, keys).</summary>
    public Task<BackupVerificationResult> VerifyAsync(BackupManifest manifest, CancellationToken cancellationToken = default) =>
        new BackupVerifier(Store, Keys, Environment.Pipeline.TempDirectory).VerifyAsync(manifest, cancellationToken);
}
