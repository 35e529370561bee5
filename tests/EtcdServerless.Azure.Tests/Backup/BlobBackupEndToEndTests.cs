using EtcdServerless.Azure.Blob;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using Microsoft.Extensions.DependencyInjection;
using EtcdServerless.Testing.Azurite;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Azure.Tests.Backup;

/// <summary>The whole backup pipeline into real Azurite (the Azure.Storage.Blobs store), then verified back out of it.</summary>
public sealed class BlobBackupEndToEndTests
{
    [Fact]
    public async Task Backup_ToAzurite_ManifestCommittedAndVerifierPassesThenCatchesTampering()
    {
        // Arrange: real etcd (3 members), real Azurite, local keys.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        await using var azurite = await AzuriteProcess.StartAsync();
        await azurite.CreateContainerAsync("backups");
        using var temp = new TempDirectory("h6-blob-backup");
        for (var i = 0; i < 40; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/registry/configmaps/{i:D4}", new string((char)('a' + (i % 26)), 2000));
        }

        var store = BlobBackupStore.FromUri(new Uri(azurite.BlobEndpoint + "/backups"), accountKey: AzuriteProcess.AccountKey);
        var keys = new LocalKeyStore(temp.Combine("keys"));
        await keys.InitializeAsync();
        var options = new EtcdBackupOptions
        {
            Store = new StoreOptions { ImmutabilityDays = 1 },
            Clusters = { ["blob"] = new ClusterOptions { Endpoints = [.. cluster.ClientUrls] } },
        };
        await using var engine = await WorkflowTestHost.StartAsync(services => services
            .AddSingleton<IBackupStore>(store)
            .AddSingleton<IKeyStore>(keys)
            .AddEtcdBackup(options, new BackupPipelineOptions { TempDirectory = temp.Path }));

        // Act: the backup orchestration on the real Durable Task engine, its activities writing to Azurite.
        var started = await engine.Gateway.StartBackupAsync("blob", BackupTrigger.OnDemand);
        var (_, result) = await engine.CompleteAsync<BackupResult>(started.InstanceId);

        // Assert: committed artifact + manifest in the container, figures verified from a fresh download.
        Assert.True(result.Succeeded, result.Message);
        var manifest = await new BackupCatalog(store).GetAsync("blob", result.Manifest!.BackupId);
        Assert.Equal(result.Manifest.Snapshot, manifest.Snapshot);
        var tags = await store.GetTagsAsync(manifest.Artifact.Name);
        Assert.Equal("blob", tags[BackupCatalog.ClusterTag]);
        var verifier = new BackupVerifier(store, keys, temp.Path);
        var verification = await verifier.VerifyAsync("blob", manifest.BackupId);
        Assert.True(verification.Passed, string.Join("; ", verification.Checks.Where(c => !c.Passed)));

        // A manifest that disagrees with the stored bytes is caught.
        var wrong = manifest with { Artifact = manifest.Artifact with { Sha256 = new string('0', 64) } };
        var tampered = await verifier.VerifyAsync(wrong);
        Assert.False(tampered.Passed);
        // The edited manifest also no longer matches its MAC (identity and figures are bound under the KEK).
        Assert.Equal(["artifact.sha256", "manifest.mac"], tampered.Checks.Where(c => !c.Passed).Select(c => c.Name));
    }
}
