using System.Runtime.Versioning;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Testing.Storage;

namespace EtcdServerless.Core.Tests.Storage;

[UnsupportedOSPlatform("windows")]
public sealed class LocalDirectoryBackupStoreTests : BackupStoreConformanceTests, IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("h3-store");

    internal FakeTimeProvider Clock { get; } = new(Start);

    public void Dispose() => _dir.Dispose();

    // The shared suite deletes what it wrote, so its store has no default retention; retention is tested below.
    protected override Task<IBackupStore> CreateStoreAsync() =>
        Task.FromResult<IBackupStore>(new LocalDirectoryBackupStore(_dir.Path, TimeSpan.Zero, Clock));

    protected override Task<IBackupStore> CreateMissingStoreAsync() =>
        Task.FromResult<IBackupStore>(new LocalDirectoryBackupStore(_dir.Combine("missing", "store"), TimeSpan.Zero, Clock));

    private LocalDirectoryBackupStore NewStore() => new(_dir.Path, TimeSpan.FromDays(7), Clock);

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Write_RetainUntil_IsRecordedAndReadBack()
    {
        var store = NewStore();

        var info = await WriteAsync(store, "c1/a", Bytes("hello"), Start.AddDays(1));

        Assert.Equal(Start.AddDays(1), info.RetainUntil);
        Assert.Equal(Start.AddDays(1), (await store.GetInfoAsync("c1/a"))!.RetainUntil);
    }

    [Fact]
    public async Task Delete_BeforeRetentionExpires_ThrowsImmutable()
    {
        var store = NewStore();
        await WriteAsync(store, "c1/locked", Bytes("x"), Start.AddHours(1));
        Clock.Advance(TimeSpan.FromMinutes(59));

        await Assert.ThrowsAsync<BackupObjectImmutableException>(() => store.DeleteAsync("c1/locked"));

        Assert.NotNull(await store.GetInfoAsync("c1/locked"));
    }

    [Fact]
    public async Task Delete_AfterRetentionExpires_RemovesObjectAndAllowsNewWrite()
    {
        var store = NewStore();
        await WriteAsync(store, "c1/old", Bytes("x"), Start.AddHours(1), new Dictionary<string, string> { ["k"] = "v" });
        Clock.Advance(TimeSpan.FromHours(2));

        await store.DeleteAsync("c1/old");

        Assert.Null(await store.GetInfoAsync("c1/old"));
        await WriteAsync(store, "c1/old", Bytes("y"), Start.AddHours(10));
        Assert.Empty(await store.GetTagsAsync("c1/old"));
    }

    [Fact]
    public async Task Tags_SetAfterCommitOnRetainedObject_AreReadBack()
    {
        var store = NewStore();
        await WriteAsync(store, "c1/tagged", Bytes("x"), Start.AddDays(30), new Dictionary<string, string> { ["cluster"] = "c1" });

        await store.SetTagsAsync("c1/tagged", new Dictionary<string, string> { ["cluster"] = "c1", ["verified"] = "true" });

        Assert.Equal(new Dictionary<string, string> { ["cluster"] = "c1", ["verified"] = "true" }, await store.GetTagsAsync("c1/tagged"));
    }

    [Fact]
    public async Task Initialize_DefaultRetention_ReportsItAndWarnsFolderIsNotWorm()
    {
        var result = await NewStore().InitializeAsync();

        Assert.Contains("7 days", result.Immutability, StringComparison.Ordinal);
        Assert.False(result.Protected);
        Assert.Contains(result.Warnings, w => w.Contains("not WORM", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Initialize_NoRetention_WarnsNoImmutability()
    {
        var result = await (await CreateStoreAsync()).InitializeAsync();

        Assert.StartsWith("none", result.Immutability, StringComparison.Ordinal);
        Assert.Contains(result.Warnings, w => w.Contains("no immutability", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Initialize_FolderTakesNoWrites_ThrowsStoreException()
    {
        var store = NewStore();
        // A file where the staging folder must be: no write can be staged (this holds for root too).
        var staging = _dir.Combine(LocalDirectoryBackupStore.StagingDirectoryName);
        Directory.Delete(staging, recursive: true);
        await File.WriteAllTextAsync(staging, "not a folder");

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => store.InitializeAsync());

        Assert.Contains("does not take writes", ex.Message, StringComparison.Ordinal);
    }

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
