using System.Text;
using System.Text.Json;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using EtcdServerless.Core.Storage;
using EtcdServerless.Core.Tests.Catalog;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Restore;

public sealed class ResolveBackupActivityTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("resolve");
    private readonly LocalDirectoryBackupStore _store;
    private readonly AgentClient _agents = new(new AgentClientOptions());
    private readonly ResolveBackupActivity _activity;

    public ResolveBackupActivityTests()
    {
        _store = new LocalDirectoryBackupStore(_dir.Combine("store"), TimeSpan.Zero);
        _activity = new ResolveBackupActivity(new RestoreServices(_store, new LocalKeyStore(_dir.Combine("keys")), new EtcdBackupOptions(), _agents));
    }

    [Fact]
    public async Task RunAsync_LatestManifestIncomplete_RefusedAsUnreadable()
    {
        // Valid JSON without its sections: the resolver used to read manifests itself and failed on the missing
        // flags with a NullReferenceException instead of a result naming the manifest.
        var id = BackupNaming.CreateBackupId(Start, 7);
        await WriteManifestAsync(id, "{}");

        var result = await _activity.RunAsync(new ResolveBackupInput("c1", BackupNaming.Latest, null, false));

        Assert.Null(result.Backup);
        Assert.Contains($"the manifest of backup '{id}' is unreadable", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ManifestDescribesAnotherBackup_Refused()
    {
        // A manifest copied under a newer name must not be restored as that newer backup.
        var older = TestManifests.Create("c1", Start, 5);
        var newerId = BackupNaming.CreateBackupId(Start.AddHours(1), 9);
        await WriteManifestAsync(newerId, JsonSerializer.Serialize(older, CatalogJsonContext.Default.BackupManifest));

        var result = await _activity.RunAsync(new ResolveBackupInput("c1", BackupNaming.Latest, null, false));

        Assert.Null(result.Backup);
        Assert.Contains($"backup '{newerId}'", result.Error, StringComparison.Ordinal);
        Assert.Contains("does not describe", result.Error, StringComparison.Ordinal);
    }

    private async Task WriteManifestAsync(string backupId, string json)
    {
        await using var writer = await _store.OpenWriteAsync(BackupNaming.ManifestName("c1", backupId), new BackupObjectWriteOptions());
        await writer.Content.WriteAsync(Encoding.UTF8.GetBytes(json));
        await writer.CommitAsync();
    }

    public void Dispose()
    {
        _agents.Dispose();
        _dir.Dispose();
    }
}
