using System.Text;
using EtcdServerless.Core.Storage;
using Xunit;

namespace EtcdServerless.Testing.Storage;

/// <summary>
/// The behaviour every <see cref="IBackupStore"/> must have, whatever the medium (local folder, Azure Blob on
/// Azurite, ...). A test project derives one class per store and returns a fresh, empty, initialized store from
/// <see cref="CreateStoreAsync"/>; every test here then runs against it. Behaviour that only some media can
/// show here (retention enforced under a clock the test controls, for one) belongs in that store's own subclass.
/// </summary>
public abstract class BackupStoreConformanceTests
{
    /// <summary>A fresh, empty store that takes writes. Called once or more per test.</summary>
    protected abstract Task<IBackupStore> CreateStoreAsync();

    /// <summary>A store whose container or folder does not exist yet (what <c>etcd-backup store init</c> meets first).</summary>
    protected abstract Task<IBackupStore> CreateMissingStoreAsync();

    protected static async Task<StoredObjectInfo> WriteAsync(IBackupStore store, string name, byte[] content, DateTimeOffset? retainUntil = null, IReadOnlyDictionary<string, string>? tags = null)
    {
        await using var writer = await store.OpenWriteAsync(name, new BackupObjectWriteOptions
        {
            RetainUntil = retainUntil,
            Tags = tags ?? new Dictionary<string, string>(),
        });
        await writer.Content.WriteAsync(content);
        return await writer.CommitAsync();
    }

    protected static async Task<byte[]> ReadAsync(IBackupStore store, string name, long offset = 0, long? length = null)
    {
        await using var stream = await store.OpenReadAsync(name, offset, length);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Write_ThenRead_ReturnsContentAndInfo()
    {
        var store = await CreateStoreAsync();

        var info = await WriteAsync(store, "c1/2026/11/21/a.snap.enc", Bytes("hello"));

        Assert.Equal("c1/2026/11/21/a.snap.enc", info.Name);
        Assert.Equal(5, info.Length);
        Assert.Equal(Bytes("hello"), await ReadAsync(store, "c1/2026/11/21/a.snap.enc"));
        Assert.Equal(5, (await store.GetInfoAsync("c1/2026/11/21/a.snap.enc"))!.Length);
    }

    [Fact]
    public async Task Initialize_MissingStore_CreatesItOnceAndItTakesWrites()
    {
        var store = await CreateMissingStoreAsync();

        var first = await store.InitializeAsync();
        var second = await store.InitializeAsync();
        await WriteAsync(store, "c1/after-init", Bytes("ok"));

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(store.Description, first.Store);
        Assert.Equal(first.Immutability, second.Immutability);
        Assert.Equal(Bytes("ok"), await ReadAsync(store, "c1/after-init"));
    }

    [Fact]
    public async Task Initialize_ExistingStore_KeepsObjectsAndWarnsWhenUnprotected()
    {
        var store = await CreateStoreAsync();
        await WriteAsync(store, "c1/kept", Bytes("kept"));

        var result = await store.InitializeAsync();

        Assert.False(result.Created);
        Assert.False(string.IsNullOrWhiteSpace(result.Immutability));
        if (!result.Protected)
        {
            Assert.NotEmpty(result.Warnings);
        }

        Assert.Equal(Bytes("kept"), await ReadAsync(store, "c1/kept"));
    }

    [Fact]
    public async Task Write_ExistingName_ThrowsExistsAndKeepsOriginal()
    {
        var store = await CreateStoreAsync();
        await WriteAsync(store, "c1/x", Bytes("first"));

        await Assert.ThrowsAsync<BackupObjectExistsException>(() => WriteAsync(store, "c1/x", Bytes("second")));

        Assert.Equal(Bytes("first"), await ReadAsync(store, "c1/x"));
    }

    [Fact]
    public async Task Commit_TwoWritersRacing_ExactlyOneWins()
    {
        var store = await CreateStoreAsync();
        var first = await store.OpenWriteAsync("c1/race", new BackupObjectWriteOptions());
        var second = await store.OpenWriteAsync("c1/race", new BackupObjectWriteOptions());
        await first.Content.WriteAsync(Bytes("AAAA"));
        await second.Content.WriteAsync(Bytes("BBBBBB"));

        var commits = new[] { first, second }.Select(w => Task.Run(() => w.CommitAsync())).ToArray();
        var outcomes = await Task.WhenAll(commits.Select(async c =>
        {
            try
            {
                return (object)await c;
            }
            catch (BackupObjectExistsException ex)
            {
                return ex;
            }
        }));
        await first.DisposeAsync();
        await second.DisposeAsync();

        var winner = Assert.Single(outcomes.OfType<StoredObjectInfo>());
        Assert.Single(outcomes.OfType<BackupObjectExistsException>());
        var content = await ReadAsync(store, "c1/race");
        Assert.Equal(winner.Length, content.Length);
        Assert.True(content.SequenceEqual(Bytes("AAAA")) || content.SequenceEqual(Bytes("BBBBBB")));
    }

    [Fact]
    public async Task Commit_ManyConcurrentWriters_ExactlyOneWinsEachTime()
    {
        // Many rounds: a check-then-rename commit loses this race only now and then.
        var store = await CreateStoreAsync();
        for (var round = 0; round < 20; round++)
        {
            var name = $"c1/many-{round}";
            using var start = new ManualResetEventSlim();
            var writers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                start.Wait();
                try
                {
                    await WriteAsync(store, name, Bytes(new string((char)('a' + i), 100 + i)));
                    return true;
                }
                catch (BackupObjectExistsException)
                {
                    return false;
                }
            })).ToArray();
            start.Set();
            var outcomes = await Task.WhenAll(writers);

            Assert.Single(outcomes, o => o);
            var content = await ReadAsync(store, name);
            Assert.All(content, b => Assert.Equal(content[0], b));
            Assert.Equal(100 + (content[0] - 'a'), content.Length);
        }
    }

    [Fact]
    public async Task Dispose_WithoutCommit_LeavesNothingVisible()
    {
        var store = await CreateStoreAsync();
        await using (var writer = await store.OpenWriteAsync("c1/abandoned", new BackupObjectWriteOptions()))
        {
            await writer.Content.WriteAsync(Bytes("partial"));
        }

        Assert.Null(await store.GetInfoAsync("c1/abandoned"));
        Assert.Empty(await ToListAsync(store.ListAsync("")));
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => store.OpenReadAsync("c1/abandoned"));
        await WriteAsync(store, "c1/abandoned", Bytes("now"));
    }

    [Fact]
    public async Task Delete_Existing_RemovesObjectAndTagsAndAllowsNewWrite()
    {
        var store = await CreateStoreAsync();
        await WriteAsync(store, "c1/old", Bytes("x"), tags: new Dictionary<string, string> { ["k"] = "v" });

        await store.DeleteAsync("c1/old");

        Assert.Null(await store.GetInfoAsync("c1/old"));
        Assert.Empty(await ToListAsync(store.ListAsync("c1/")));
        await WriteAsync(store, "c1/old", Bytes("y"));
        Assert.Empty(await store.GetTagsAsync("c1/old"));
        Assert.Equal(Bytes("y"), await ReadAsync(store, "c1/old"));
    }

    [Fact]
    public async Task Delete_Missing_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(async () => await (await CreateStoreAsync()).DeleteAsync("c1/none"));
    }

    [Theory]
    [InlineData(0, null, "0123456789")]
    [InlineData(3, null, "3456789")]
    [InlineData(3, 4L, "3456")]
    [InlineData(8, 100L, "89")]
    [InlineData(10, null, "")]
    [InlineData(0, 0L, "")]
    public async Task OpenRead_Range_ReturnsSlice(long offset, long? length, string expected)
    {
        var store = await CreateStoreAsync();
        await WriteAsync(store, "c1/range", Bytes("0123456789"));

        Assert.Equal(expected, Encoding.UTF8.GetString(await ReadAsync(store, "c1/range", offset, length)));
    }

    [Fact]
    public async Task OpenRead_Missing_ThrowsNotFound()
    {
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(async () => await (await CreateStoreAsync()).OpenReadAsync("c1/none"));
        Assert.Null(await (await CreateStoreAsync()).GetInfoAsync("c1/none"));
    }

    [Fact]
    public async Task List_ReturnsNameOrderFilteredByPrefix()
    {
        var store = await CreateStoreAsync();
        string[] names = ["b/2026/01/02/z", "a.txt", "a/b/c", "b/2026/01/01/y", "b/2026/01/01/x", "b-2", "b/2026/11/01/w"];
        foreach (var name in names)
        {
            await WriteAsync(store, name, Bytes(name));
        }

        var all = (await ToListAsync(store.ListAsync(""))).Select(i => i.Name).ToList();
        var underB = (await ToListAsync(store.ListAsync("b/"))).Select(i => i.Name).ToList();
        var january = (await ToListAsync(store.ListAsync("b/2026/01/0"))).Select(i => i.Name).ToList();

        Assert.Equal(names.Order(StringComparer.Ordinal), all);
        Assert.Equal(["b/2026/01/01/x", "b/2026/01/01/y", "b/2026/01/02/z", "b/2026/11/01/w"], underB);
        Assert.Equal(["b/2026/01/01/x", "b/2026/01/01/y", "b/2026/01/02/z"], january);
        Assert.Empty(await ToListAsync(store.ListAsync("nothing/")));
    }

    [Fact]
    public async Task Tags_SetAtCommitThenReplaced_AreReadBack()
    {
        var store = await CreateStoreAsync();
        await WriteAsync(store, "c1/tagged", Bytes("x"), tags: new Dictionary<string, string> { ["cluster"] = "c1" });
        Assert.Equal("c1", (await store.GetTagsAsync("c1/tagged"))["cluster"]);

        await store.SetTagsAsync("c1/tagged", new Dictionary<string, string> { ["cluster"] = "c1", ["verified"] = "true" });
        var tags = await store.GetTagsAsync("c1/tagged");

        Assert.Equal("true", tags["verified"]);
        Assert.Equal("c1", tags["cluster"]);
        Assert.Equal(2, tags.Count);
    }

    [Fact]
    public async Task Tags_OnMissingObject_ThrowNotFound()
    {
        var store = await CreateStoreAsync();

        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => store.SetTagsAsync("c1/none", new Dictionary<string, string>()));
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => store.GetTagsAsync("c1/none"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("a//b")]
    [InlineData("a/../b")]
    [InlineData("a/.hidden")]
    [InlineData("a/b c")]
    [InlineData("a\\b")]
    public async Task OpenWrite_InvalidName_ThrowsArgument(string name)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await (await CreateStoreAsync()).OpenWriteAsync(name, new BackupObjectWriteOptions()));
    }

    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }
}
