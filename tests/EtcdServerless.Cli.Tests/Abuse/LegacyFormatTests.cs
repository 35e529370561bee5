using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>Defends: backups written before identity binding (envelope format 1, manifest schema 1) stay readable.</summary>
[Trait("Category", "Abuse")]
public sealed class LegacyFormatTests
{
    [Fact]
    public async Task Verify_Format1BackupWithoutMac_PassesAsUnauthenticatedLegacy()
    {
        // Arrange: seal a real snapshot the way format 1 did (no identity, no MAC).
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "1");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var snapshot = env.Combine("s.db");
        await cluster.EtcdCtlOnMemberAsync(0, "snapshot", "save", snapshot);
        var status = await SnapshotInspector.InspectAsync(snapshot, new SnapshotInspectionOptions { Trailer = SnapshotTrailerMode.Present });
        var store = new LocalDirectoryBackupStore(env.StoreDir, TimeSpan.Zero);
        using var kek = await new LocalKeyStore(env.KeysDir).GetCurrentAsync();
        var id = BackupNaming.CreateBackupId(DateTimeOffset.UtcNow, status.Revision);
        var name = BackupNaming.ArtifactName("lab", id);
        var bytes = await File.ReadAllBytesAsync(snapshot);
        StoredObjectInfo committed;
        byte[] artifactSha;
        var writer = await store.OpenWriteAsync(name, new BackupObjectWriteOptions());
        await using (writer)
        {
            var envelope = await EnvelopeWriteStream.CreateAsync(writer.Content, kek, EnvelopeOptions.Default, leaveOpen: true);
            await using (envelope)
            {
                Assert.Equal(EnvelopeFormat.UnboundVersion, envelope.Header.FormatVersion);
                await envelope.WriteAsync(bytes);
                await envelope.CompleteAsync();
                artifactSha = envelope.ArtifactSha256!;
            }

            committed = await writer.CommitAsync();
        }

        await new BackupCatalog(store).WriteManifestAsync(new BackupManifest
        {
            SchemaVersion = 1,
            BackupId = id,
            Cluster = "lab",
            Created = DateTimeOffset.UtcNow,
            Source = new SourceMemberInfo { EtcdVersion = "3.4.23" },
            Snapshot = new SnapshotInfo { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Size = bytes.Length, Revision = status.Revision, TotalKey = status.TotalKey, Hash = status.Hash },
            Artifact = new ArtifactInfo { Name = name, Sha256 = Convert.ToHexStringLower(artifactSha), Size = committed.Length, Compression = "brotli", FormatVersion = 1 },
            Key = new KeyReference { Store = "local", KekId = kek.KeyId, KekVersion = kek.Version },
            Flags = new BackupFlags { Verified = true },
        });

        // Act
        var verify = await Cli.RunAsync("backup", "verify", id, "--config", config);

        // Assert
        Assert.True(verify.ExitCode == 0, verify.Err + verify.Out);
        Assert.Contains("format 1 backup", verify.Out, StringComparison.Ordinal);
    }
}
