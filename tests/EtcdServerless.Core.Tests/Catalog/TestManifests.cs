using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Tests.Catalog;

internal static class TestManifests
{
    public static BackupManifest Create(string cluster, DateTimeOffset created, long revision, bool verified = true, bool keyCountDropped = false, string kekVersion = "1", long artifactSize = 3)
    {
        var id = BackupNaming.CreateBackupId(created, revision);
        return new BackupManifest
        {
            BackupId = id,
            Cluster = cluster,
            Created = created,
            Source = new SourceMemberInfo { Id = "8e9e05c52164694d", Name = "m1", Endpoint = "http://127.0.0.1:2379", RaftTerm = 2, RaftIndex = 10, EtcdVersion = "3.4.23" },
            Snapshot = new SnapshotInfo { Sha256 = new string('a', 64), Size = 20480, Revision = revision, TotalKey = 5, Hash = 123456 },
            Artifact = new ArtifactInfo { Name = BackupNaming.ArtifactName(cluster, id), Sha256 = new string('b', 64), Size = artifactSize, Compression = "brotli", FormatVersion = 1 },
            Key = new KeyReference { Store = "file:///keys", KekId = "etcd-backup-kek", KekVersion = kekVersion },
            ToolVersion = "0.1.0",
            Flags = new BackupFlags { Verified = verified, KeyCountDropped = keyCountDropped },
        };
    }

    /// <summary>Writes the artifact (3 bytes) and then the manifest, as the pipeline does.</summary>
    public static async Task<BackupManifest> CommitAsync(BackupCatalog catalog, BackupManifest manifest, DateTimeOffset? retainUntil = null)
    {
        await using (var writer = await catalog.Store.OpenWriteAsync(manifest.Artifact.Name, new BackupObjectWriteOptions
        {
            RetainUntil = retainUntil,
            Tags = BackupCatalog.ArtifactTags(manifest.Cluster, manifest.Snapshot.Revision, manifest.Flags.Verified),
        }))
        {
            await writer.Content.WriteAsync(new byte[manifest.Artifact.Size]);
            await writer.CommitAsync();
        }

        await catalog.WriteManifestAsync(manifest, retainUntil);
        return manifest;
    }
}
