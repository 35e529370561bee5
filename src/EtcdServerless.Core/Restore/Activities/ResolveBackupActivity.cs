using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Restore.Activities;

/// <summary>Finds the manifest (an id or the latest of the cluster) and proves the key-encryption key unwraps its data key.</summary>
internal sealed class ResolveBackupActivity(RestoreServices services) : IActivity<ResolveBackupInput, ResolveBackupOutput>
{
    public const string ActivityName = "RestoreResolveBackup";

    public string Name => ActivityName;

    public async Task<ResolveBackupOutput> RunAsync(ResolveBackupInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var checks = new List<string>();
        if (input.FromFile is { } file)
        {
            return await ResolveFileAsync(file, input.SkipHashCheck, checks, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            BackupNaming.ValidateCluster(input.Cluster);
        }
        catch (ArgumentException ex)
        {
            return new ResolveBackupOutput(null, ex.Message, checks);
        }

        string? backupId = input.Backup;
        if (!BackupNaming.TryParseReference(backupId, out var latest, out var referenceError))
        {
            return new ResolveBackupOutput(null, referenceError, checks);
        }

        // The catalog is the one reader of manifests: "latest" is its newest id, and its read is bounded and checks the
        // manifest describes this backup of this cluster.
        var catalog = new BackupCatalog(services.Store);
        if (latest)
        {
            var ids = await catalog.ListBackupIdsAsync(input.Cluster, cancellationToken).ConfigureAwait(false);
            if (ids.Count == 0)
            {
                return new ResolveBackupOutput(null, $"cluster '{input.Cluster}' has no backups in {services.Store.Description}", checks);
            }

            backupId = ids[0];
        }

        BackupManifest manifest;
        try
        {
            manifest = await catalog.GetAsync(input.Cluster, backupId!, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupObjectNotFoundException)
        {
            return new ResolveBackupOutput(null, $"backup '{backupId}' of cluster '{input.Cluster}' was not found in {services.Store.Description}", checks);
        }
        catch (InvalidDataException ex)
        {
            return new ResolveBackupOutput(null, $"the manifest of backup '{backupId}' is unreadable: {ex.Message}", checks);
        }

        checks.Add($"ok: manifest {backupId} (revision {manifest.Snapshot.Revision}, {manifest.Snapshot.Size} bytes, verified={manifest.Flags.Verified})");
        if (!manifest.Flags.Verified)
        {
            return new ResolveBackupOutput(null, $"backup '{backupId}' was never verified; refusing to restore it", checks);
        }

        var (header, keyError) = await CheckKeyAsync(manifest, backupId, checks, cancellationToken).ConfigureAwait(false);
        if (header is null)
        {
            return new ResolveBackupOutput(null, keyError, checks);
        }

        // Identity: never restore an old backup presented under a newer id (manifest MAC + the artifact's bound identity).
        foreach (var (name, passed, detail) in await ManifestAuthenticator.CheckAsync(
            manifest, header, services.Keys, catalog, cancellationToken).ConfigureAwait(false))
        {
            if (!passed)
            {
                return new ResolveBackupOutput(null, $"backup '{backupId}' failed its identity check ({name}): {detail}", checks);
            }

            checks.Add($"ok: {name}: {detail}");
        }

        return new ResolveBackupOutput(ToInfo(manifest), null, checks);
    }

    /// <summary>Proves the key-encryption key unwraps the backup's data key; the envelope header, or why not.</summary>
    private async Task<(EnvelopeHeader? Header, string? Error)> CheckKeyAsync(BackupManifest manifest, string? backupId, List<string> checks, CancellationToken cancellationToken)
    {
        try
        {
            // Opening the envelope reads its header, fetches the KEK version and unwraps the data key: the key check.
            EnvelopeHeader header;
            var artifact = await services.Store.OpenReadAsync(manifest.Artifact.Name, 0, null, cancellationToken).ConfigureAwait(false);
            await using (artifact.ConfigureAwait(false))
            {
                var plain = await EnvelopeReadStream.OpenAsync(artifact, services.Keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
                header = plain.Header;
                await plain.DisposeAsync().ConfigureAwait(false);
            }

            checks.Add($"ok: key {manifest.Key.KekId}/{manifest.Key.KekVersion} unwraps the backup's data key");
            return (header, null);
        }
        catch (Exception ex) when (ex is EnvelopeException or BackupStoreException or KeyNotFoundException or IOException or System.Security.Cryptography.CryptographicException)
        {
            return (null, $"key check failed for backup '{backupId}': {ex.Message}");
        }
    }

    /// <summary>What the restore plan needs to know about the backup, from its manifest.</summary>
    private static RestoreBackupInfo ToInfo(BackupManifest manifest) => new()
    {
        BackupId = manifest.BackupId,
        ArtifactName = manifest.Artifact.Name,
        Created = manifest.Created,
        SnapshotSha256 = manifest.Snapshot.Sha256,
        SnapshotSize = manifest.Snapshot.Size,
        Revision = manifest.Snapshot.Revision,
        TotalKey = manifest.Snapshot.TotalKey,
        Kek = $"{manifest.Key.KekId}/{manifest.Key.KekVersion}",
        SourceEtcdVersion = manifest.Source.EtcdVersion,
        BundleTarSize = manifest.Bundle?.TarSize,
    };

    private static async Task<ResolveBackupOutput> ResolveFileAsync(string file, bool skipHashCheck, List<string> checks, CancellationToken cancellationToken)
    {
        // A plain file is checked here, in the plan phase: a corrupt or truncated one is refused before any member is stopped.
        try
        {
            var info = await PlainSnapshotFile.InspectAsync(file, skipHashCheck, cancellationToken).ConfigureAwait(false);
            checks.Add($"ok: snapshot file {info.SourceFile} (revision {info.Revision}, {info.SnapshotSize - 32} bytes of database, " +
                (skipHashCheck ? "hash check skipped, bbolt structure valid)" : "sha256 trailer and bbolt structure valid)"));
            return new ResolveBackupOutput(info, null, checks);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException or UnauthorizedAccessException)
        {
            return new ResolveBackupOutput(null, ex.Message, checks);
        }
    }
}
