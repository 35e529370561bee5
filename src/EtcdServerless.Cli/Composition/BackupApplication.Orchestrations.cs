using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Orchestration;

namespace EtcdServerless.Cli.Composition;

internal sealed partial class BackupApplication
{
    /// <inheritdoc/>
    public Task<OrchestrationStartResult> StartRestoreAsync(RestoreApiRequest request, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("restore orchestration not wired yet");

    private void RegisterOrchestrations(OrchestrationRegistry registry)
    {
        registry.AddBackup(Environment);
    }

    /// <summary>Downloads, decrypts and re-checks the backup against its manifest (hashes, bbolt structure, revision, keys).</summary>
    public Task<BackupVerificationResult> VerifyAsync(BackupManifest manifest, CancellationToken cancellationToken = default) =>
        new BackupVerifier(Store, Keys, Environment.Pipeline.TempDirectory).VerifyAsync(manifest, cancellationToken);
}
