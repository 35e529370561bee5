using System.Runtime.Versioning;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Storage;

[UnsupportedOSPlatform("windows")]
public sealed class LocalDirectoryBackupStoreTests : BackupStoreConformanceTests, IDisposable
{
    private readonly TempDirectory _dir = new("h3-store");

    public void Dispose() => _dir.Dispose();

    internal override IBackupStore CreateStore() => NewStore();

    private LocalDirectoryBackupStore NewStore() => new(_dir.Path, TimeSpan.FromDays(7), Clock);

    [Fact]
    public async Task Write_NoRetentionGiven_UsesDefaultRetention()
    {
        var store = NewStore();

        var info = await WriteAsync(store, "c1/default", [1, 2, 3]);

        Assert.Equal(Start.AddDays(7), info.RetainUntil);
        Clock.Advance(TimeSpan.FromDays(6));
        await Assert.ThrowsAsync<BackupObjectImmutableException>(() => store.DeleteAsync("c1/default"));
    }

    [Fact]
    public async Task Commit_ContentFileIsReadOnly()
    {
        var store = NewStore();

        await WriteAsync(store, "c1/ro", [1]);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(_dir.Combine("c1", "ro")));
    }

    [Fact]
    public async Task Crash_LeftoverStagingFile_IsNeverListedAndIsCleanedUp()
    {
        var store = NewStore();
        var leftover = _dir.Combine(LocalDirectoryBackupStore.StagingDirectoryName, "deadbeef.part");
        await File.WriteAllBytesAsync(leftover, new byte[100]);
        File.SetLastWriteTimeUtc(leftover, Start.UtcDateTime.AddHours(-3));
        var writer = await store.OpenWriteAsync("c1/live", new BackupObjectWriteOptions());
        await writer.Content.WriteAsync(new byte[10]);

        Assert.Empty(await ToListAsync(store.ListAsync("")));
        var removed = await store.CleanupStagingAsync(TimeSpan.FromHours(1));

        Assert.Equal(1, removed);
        Assert.False(File.Exists(leftover));
        await writer.CommitAsync();
        await writer.DisposeAsync();
        Assert.Single(await ToListAsync(store.ListAsync("")));
        Assert.Empty(Directory.GetFiles(_dir.Combine(LocalDirectoryBackupStore.StagingDirectoryName)));
    }

    [Fact]
    public async Task Crash_AbandonedWriterNeverDisposed_LeavesNoVisibleObject()
    {
        var store = NewStore();
        var writer = await store.OpenWriteAsync("c1/crash", new BackupObjectWriteOptions());
        await writer.Content.WriteAsync(new byte[4096]);
        await writer.Content.FlushAsync();

        // A fresh store over the same directory, as after a process restart.
        var restarted = NewStore();

        Assert.Null(await restarted.GetInfoAsync("c1/crash"));
        Assert.Empty(await ToListAsync(restarted.ListAsync("")));
        await writer.DisposeAsync();
    }

    [Fact]
    public async Task Crash_BetweenCommitAndMetadata_TreatsObjectAsRetainedByDefault()
    {
        var store = NewStore();
        await WriteAsync(store, "c1/nometa", [1, 2], Start.AddMinutes(1));
        File.Delete(_dir.Combine("c1", ".nometa.meta.json"));
        Clock.Advance(TimeSpan.FromHours(1));

        var info = await store.GetInfoAsync("c1/nometa");

        Assert.True(info!.RetainUntil > Clock.GetUtcNow());
        await Assert.ThrowsAsync<BackupObjectImmutableException>(() => store.DeleteAsync("c1/nometa"));
    }

    [Fact]
    public async Task List_SkipsSidecarsAndForeignHiddenFiles()
    {
        var store = NewStore();
        await WriteAsync(store, "c1/a", [1], tags: new Dictionary<string, string> { ["t"] = "1" });
        await File.WriteAllTextAsync(_dir.Combine("c1", ".DS_Store"), "x");

        var names = (await ToListAsync(store.ListAsync(""))).Select(i => i.Name);

        Assert.Equal(["c1/a"], names);
    }

    [Fact]
    public async Task OpenWrite_TooManyTags_ThrowsArgument()
    {
        var tags = Enumerable.Range(0, 11).ToDictionary(i => $"k{i}", i => "v");

        await Assert.ThrowsAsync<ArgumentException>(() => NewStore().OpenWriteAsync("c1/t", new BackupObjectWriteOptions { Tags = tags }));
    }
}
