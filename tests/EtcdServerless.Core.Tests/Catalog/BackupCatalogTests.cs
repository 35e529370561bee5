using System.Text;
using System.Text.Json;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;
using EtcdServerless.Core.Tests.Storage;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Catalog;

public sealed class BackupCatalogTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("h3-catalog");
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly BackupCatalog _catalog;

    public BackupCatalogTests()
    {
        _catalog = new BackupCatalog(new LocalDirectoryBackupStore(_dir.Path, TimeSpan.FromDays(1), _clock), _clock);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task WriteManifest_ThenGet_RoundTripsAllFields()
    {
        var manifest = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 42) with
        {
            Durations = new BackupDurations { Total = TimeSpan.FromSeconds(3) },
        });

        var read = await _catalog.GetAsync("c1", manifest.BackupId);

        Assert.Equal(manifest, read with { });
        Assert.Equal(manifest.Source, read.Source);
        Assert.Equal(manifest.Snapshot, read.Snapshot);
        Assert.Equal(manifest.Artifact, read.Artifact);
        Assert.Equal(TimeSpan.FromSeconds(3), read.Durations.Total);
    }

    [Fact]
    public async Task WriteManifest_Json_IsCamelCaseWithContractNames()
    {
        var manifest = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 42, keyCountDropped: true));

        await using var stream = await _catalog.Store.OpenReadAsync(BackupNaming.ManifestName("c1", manifest.BackupId));
        using var doc = await JsonDocument.ParseAsync(stream);
        var root = doc.RootElement;

        Assert.Equal(manifest.BackupId, root.GetProperty("backupId").GetString());
        Assert.Equal(42, root.GetProperty("snapshot").GetProperty("revision").GetInt64());
        Assert.Equal(5, root.GetProperty("snapshot").GetProperty("totalKey").GetInt64());
        Assert.True(root.GetProperty("source").GetProperty("isLeader").ValueKind is JsonValueKind.False);
        Assert.Equal("1", root.GetProperty("key").GetProperty("kekVersion").GetString());
        Assert.Equal(1, root.GetProperty("artifact").GetProperty("formatVersion").GetInt32());
        Assert.True(root.GetProperty("flags").GetProperty("keyCountDropped").GetBoolean());
    }

    [Fact]
    public async Task WriteManifest_ArtifactMissing_Throws()
    {
        var manifest = TestManifests.Create("c1", Start, 1);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _catalog.WriteManifestAsync(manifest));
        Assert.Empty(await _catalog.ListAsync("c1"));
    }

    [Fact]
    public async Task WriteManifest_Twice_ThrowsExists()
    {
        var manifest = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 1));

        await Assert.ThrowsAsync<BackupObjectExistsException>(() => _catalog.WriteManifestAsync(manifest));
    }

    [Fact]
    public async Task ListAsync_ManifestsOnlyNewestFirst_OtherClustersIgnored()
    {
        var a = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start.AddDays(-40), 1));
        var b = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 3));
        var c = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start.AddHours(-1), 2));
        await TestManifests.CommitAsync(_catalog, TestManifests.Create("c10", Start.AddHours(1), 9));
        await using (var orphan = await _catalog.Store.OpenWriteAsync(BackupNaming.ArtifactName("c1", BackupNaming.CreateBackupId(Start.AddHours(2), 4)), new BackupObjectWriteOptions()))
        {
            await orphan.CommitAsync();
        }

        var list = await _catalog.ListAsync("c1");

        Assert.Equal([b.BackupId, c.BackupId, a.BackupId], list.Select(m => m.BackupId));
        Assert.Equal(b.BackupId, (await _catalog.GetLatestAsync("c1"))!.BackupId);
    }

    [Fact]
    public async Task GetLatest_NoBackups_ReturnsNull()
    {
        Assert.Null(await _catalog.GetLatestAsync("c1"));
    }

    [Fact]
    public async Task Get_Unknown_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => _catalog.GetAsync("c1", BackupNaming.CreateBackupId(Start, 1)));
    }

    [Fact]
    public async Task Get_CorruptManifest_ThrowsInvalidData()
    {
        var id = BackupNaming.CreateBackupId(Start, 1);
        await using (var writer = await _catalog.Store.OpenWriteAsync(BackupNaming.ManifestName("c1", id), new BackupObjectWriteOptions()))
        {
            await writer.Content.WriteAsync(Encoding.UTF8.GetBytes("{\"backupId\": 5"));
            await writer.CommitAsync();
        }

        await Assert.ThrowsAsync<InvalidDataException>(() => _catalog.GetAsync("c1", id));
    }

    [Fact]
    public async Task FindOrphans_ArtifactWithoutManifest_OnlyAfterGracePeriod()
    {
        await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 1));
        var orphanName = BackupNaming.ArtifactName("c1", BackupNaming.CreateBackupId(Start, 2));
        await using (var writer = await _catalog.Store.OpenWriteAsync(orphanName, new BackupObjectWriteOptions { RetainUntil = Start }))
        {
            await writer.CommitAsync();
        }

        var young = await _catalog.FindOrphansAsync("c1", TimeSpan.FromHours(1));
        _clock.Advance(TimeSpan.FromHours(2));
        var old = await _catalog.FindOrphansAsync("c1", TimeSpan.FromHours(1));
        var cleanup = await _catalog.CleanupOrphansAsync("c1", TimeSpan.FromHours(1));

        Assert.Empty(young);
        Assert.Equal([orphanName], old.Select(o => o.Name));
        Assert.Equal([orphanName], cleanup.Deleted);
        Assert.Null(await _catalog.Store.GetInfoAsync(orphanName));
        Assert.Single(await _catalog.ListAsync("c1"));
    }

    [Fact]
    public async Task CleanupOrphans_StillImmutable_SkipsAndReports()
    {
        var orphanName = BackupNaming.ArtifactName("c1", BackupNaming.CreateBackupId(Start, 2));
        await using (var writer = await _catalog.Store.OpenWriteAsync(orphanName, new BackupObjectWriteOptions { RetainUntil = Start.AddDays(5) }))
        {
            await writer.CommitAsync();
        }

        _clock.Advance(TimeSpan.FromHours(2));
        var cleanup = await _catalog.CleanupOrphansAsync("c1", TimeSpan.FromHours(1));

        Assert.Empty(cleanup.Deleted);
        Assert.Equal([orphanName], cleanup.SkippedImmutable);
    }

    [Fact]
    public async Task SetVerifiedTag_OnImmutableArtifact_UpdatesTag()
    {
        var manifest = await TestManifests.CommitAsync(_catalog, TestManifests.Create("c1", Start, 42, verified: false), Start.AddDays(3));

        await _catalog.SetVerifiedTagAsync(manifest, verified: true);
        var tags = await _catalog.Store.GetTagsAsync(manifest.Artifact.Name);

        Assert.Equal("true", tags[BackupCatalog.VerifiedTag]);
        Assert.Equal("42", tags[BackupCatalog.RevisionTag]);
        Assert.Equal("c1", tags[BackupCatalog.ClusterTag]);
    }
}
