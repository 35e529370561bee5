using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;

namespace EtcdServerless.Core.Restore.Activities;

/// <summary>Input of <see cref="RestoreBundleActivity"/>.</summary>
internal sealed record RestoreBundleInput(string RestoreId, string Cluster, string BackupId, RestoreTargetMember Member);

/// <summary>
/// Streams the backup's control-plane bundle, decrypted and authenticated on the way (never held whole), to one agent,
/// which checks the tar's SHA-256 against the manifest's and writes it inside its <c>Agent:Bundle:Paths</c> while the
/// member is stopped on its restored data dir.
/// </summary>
internal sealed class RestoreBundleActivity(RestoreServices services) : MemberStepActivity<RestoreBundleInput>(services, "bundle")
{
    public const string ActivityName = "RestoreBundleMember";

    public override string Name => ActivityName;

    protected override (string, RestoreTargetMember) Target(RestoreBundleInput input) => (input.RestoreId, input.Member);

    protected override async Task<AgentRestoreStatus> RunStepAsync(RestoreBundleInput input, CancellationToken cancellationToken)
    {
        var manifest = await new BackupCatalog(Services.Store).GetAsync(input.Cluster, input.BackupId, cancellationToken).ConfigureAwait(false);
        var bundle = manifest.Bundle ?? throw new IOException($"backup {input.BackupId} has no control-plane bundle");
        try
        {
            await BundleArtifactReader.ReadAsync(Services.Store, Services.Keys, manifest, (tar, ct) =>
                Services.Agents.UploadBundleAsync(input.Member.AgentUrl, input.RestoreId, tar, bundle.TarSha256, bundle.TarSize, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            // A bundle sealed under another identity: a step failure (rollback), like a tampered envelope.
            throw new IOException(ex.Message, ex);
        }
        return await Services.Agents.GetAsync(input.Member.AgentUrl, input.RestoreId, cancellationToken).ConfigureAwait(false);
    }
}
