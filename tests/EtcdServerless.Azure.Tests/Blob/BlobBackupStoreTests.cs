using EtcdServerless.Azure.Blob;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Azurite;

namespace EtcdServerless.Azure.Tests.Blob;

[Collection(AzuriteGroup.Name)]
[Trait("Category", "Azure")]
public sealed class BlobBackupStoreTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task CommitAsync_MultiBlockArtifact_ReadsBackIdentical()
    {
        var store = await fixture.NewStoreAsync();
        var data = TestData.Random((64 * 1024 * 17) + 123, seed: 1);

        var info = await TestData.WriteAsync(store, "c1/2026/11/21/a.snap.enc", data);

        Assert.Equal(data.Length, info.Length);
        Assert.False(string.IsNullOrEmpty(info.ETag));
        Assert.Equal(data, await TestData.ReadAsync(store, "c1/2026/11/21/a.snap.enc"));
        var stored = await store.GetInfoAsync("c1/2026/11/21/a.snap.enc");
        Assert.NotNull(stored);
        Assert.Equal(data.Length, stored.Length);
    }

    [Fact]
    public async Task CommitAsync_EmptyObject_IsStoredWithZeroLength()
    {
        var store = await fixture.NewStoreAsync();

        var info = await TestData.WriteAsync(store, "empty", []);

        Assert.Equal(0, info.Length);
        Assert.Empty(await TestData.ReadAsync(store, "empty"));
    }

    [Fact]
    public async Task Content_SynchronousWrites_AreUploadedToo()
    {
        var store = await fixture.NewStoreAsync();
        var data = TestData.Random(200_000, seed: 9);

        await using (var writer = await store.OpenWriteAsync("sync", new BackupObjectWriteOptions()))
        {
            writer.Content.Write(data, 0, data.Length);
            await writer.CommitAsync();
        }

        Assert.Equal(data, await TestData.ReadAsync(store, "sync"));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(49_990, 30)]
    [InlineData(65_530, 200_000)]
    [InlineData(300_000, null)]
    public async Task OpenReadAsync_Range_ReturnsExactSlice(long offset, int? length)
    {
        var store = await fixture.NewStoreAsync();
        var data = TestData.Random(320_001, seed: 2);
        await TestData.WriteAsync(store, "r", data);

        var slice = await TestData.ReadAsync(store, "r", offset, length);

        var expectedLength = length is null ? data.Length - (int)offset : Math.Min(length.Value, data.Length - (int)offset);
        Assert.Equal(data.AsSpan((int)offset, expectedLength).ToArray(), slice);
    }

    [Fact]
    public async Task OpenReadAsync_OffsetAtOrPastEnd_ReturnsEmpty_Negative_Throws()
    {
        var store = await fixture.NewStoreAsync();
        await TestData.WriteAsync(store, "r", TestData.Random(1000, seed: 3));

        Assert.Empty(await TestData.ReadAsync(store, "r", 1000));
        Assert.Empty(await TestData.ReadAsync(store, "r", 5000));
        Assert.Empty(await TestData.ReadAsync(store, "r", 10, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenReadAsync("r", -1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.OpenReadAsync("r", 0, -1));
    }

    [Fact]
    public async Task OpenReadAsync_BlobReplacedAfterOpen_FailsInsteadOfMixingVersions()
    {
        var store = await fixture.NewStoreAsync();
        await TestData.WriteAsync(store, "r", TestData.Random(120_000, seed: 12));
        await using var stream = await store.OpenReadAsync("r");
        await store.DeleteAsync("r");
        await TestData.WriteAsync(store, "r", TestData.Random(120_000, seed: 13));

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => stream.CopyToAsync(Stream.Null));

        // A failed If-Match on a read is a changed blob, not the write-once "already exists".
        Assert.Contains("412", ex.Message, StringComparison.Ordinal);
        Assert.IsType<global::Azure.RequestFailedException>(ex.InnerException);
    }

    [Fact]
    public async Task OpenReadAsync_Missing_ThrowsNotFound_GetInfoReturnsNull()
    {
        var store = await fixture.NewStoreAsync();

        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => store.OpenReadAsync("nope"));
        Assert.Null(await store.GetInfoAsync("nope"));
    }

    [Fact]
    public async Task ListAsync_SmallPages_ReturnsAllInNameOrderWithoutStorePrefix()
    {
        var container = AzuriteFixture.NewContainer();
        var options = fixture.Options(container, prefix: "env/prod/") with { ListPageSize = 2 };
        var store = new BlobBackupStore(options, BlobCredential.FromSharedKey(AzuriteProcess.AccountName, AzuriteProcess.AccountKey));
        await store.CreateContainerIfNotExistsAsync();
        var names = Enumerable.Range(0, 7).Select(i => $"c1/2026/b{6 - i}.snap.enc").ToList();
        foreach (var name in names)
        {
            await TestData.WriteAsync(store, name, [1, 2, 3]);
        }

        await TestData.WriteAsync(store, "c2/other.snap.enc", [4]);

        var listed = await TestData.ListAsync(store, "c1/");

        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(i => i.Name));
        Assert.All(listed, i => Assert.Equal(3, i.Length));
        Assert.Equal(8, (await TestData.ListAsync(store)).Count);
    }

    [Fact]
    public async Task ListAsync_NoMatch_ReturnsEmpty()
    {
        var store = await fixture.NewStoreAsync();

        Assert.Empty(await TestData.ListAsync(store, "missing/"));
    }

    [Fact]
    public async Task Tags_SetAtCommitAndReplaced_AreReadBack()
    {
        var store = await fixture.NewStoreAsync();
        var tags = new Dictionary<string, string> { ["cluster"] = "prod-east", ["revision"] = "42", ["verified"] = "false" };

        await TestData.WriteAsync(store, "t", [1], new BackupObjectWriteOptions { Tags = tags });
        Assert.Equal(tags, await store.GetTagsAsync("t"));

        var replaced = new Dictionary<string, string> { ["cluster"] = "prod-east", ["verified"] = "true" };
        await store.SetTagsAsync("t", replaced);
        Assert.Equal(replaced, await store.GetTagsAsync("t"));
    }

    [Fact]
    public async Task Tags_Invalid_AreRejectedBeforeUpload()
    {
        var store = await fixture.NewStoreAsync();
        var tooMany = Enumerable.Range(0, 11).ToDictionary(i => $"k{i}", i => "v");

        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenWriteAsync("t", new BackupObjectWriteOptions { Tags = tooMany }));
        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenWriteAsync("t", new BackupObjectWriteOptions { Tags = new Dictionary<string, string> { ["bad,key"] = "v" } }));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SetTagsAsync("t", new Dictionary<string, string> { [""] = "v" }));
        Assert.Empty(await TestData.ListAsync(store));
    }

    [Fact]
    public async Task GetTagsAsync_Missing_ThrowsNotFound()
    {
        var store = await fixture.NewStoreAsync();

        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => store.GetTagsAsync("nope"));
    }

    [Fact]
    public async Task OpenWriteAsync_ExistingName_ThrowsExists()
    {
        var store = await fixture.NewStoreAsync();
        await TestData.WriteAsync(store, "once", [1]);

        await Assert.ThrowsAsync<BackupObjectExistsException>(() => TestData.WriteAsync(store, "once", [2]));
        Assert.Equal([1], await TestData.ReadAsync(store, "once"));
    }

    [Fact]
    public async Task CommitAsync_ConcurrentWritersSameName_OneWinsOtherGetsExistsNoCorruption()
    {
        var store = await fixture.NewStoreAsync();
        var a = TestData.Random(300_000, seed: 10);
        var b = TestData.Random(310_000, seed: 11);
        await using var writerA = await store.OpenWriteAsync("race", new BackupObjectWriteOptions());
        await using var writerB = await store.OpenWriteAsync("race", new BackupObjectWriteOptions());

        var writeA = writerA.Content.WriteAsync(a).AsTask();
        var writeB = writerB.Content.WriteAsync(b).AsTask();
        await Task.WhenAll(writeA, writeB);
        var commits = new[] { writerA.CommitAsync(), writerB.CommitAsync() };
        try
        {
            await Task.WhenAll(commits);
        }
        catch (BackupObjectExistsException)
        {
        }

        _ = Assert.Single(commits, c => c.IsCompletedSuccessfully);
        var loser = Assert.Single(commits, c => c.IsFaulted);
        Assert.IsType<BackupObjectExistsException>(loser.Exception!.InnerException);
        var winnerData = commits[0].IsCompletedSuccessfully ? a : b;
        Assert.Equal(winnerData, await TestData.ReadAsync(store, "race"));
    }

    [Fact]
    public async Task DisposeAsync_WithoutCommit_LeavesNothingListed()
    {
        var store = await fixture.NewStoreAsync();

        await using (var writer = await store.OpenWriteAsync("abandoned", new BackupObjectWriteOptions()))
        {
            await writer.Content.WriteAsync(TestData.Random(500_000, seed: 4));
        }

        Assert.Null(await store.GetInfoAsync("abandoned"));
        Assert.Empty(await TestData.ListAsync(store));
        // The name is still free.
        await TestData.WriteAsync(store, "abandoned", [7]);
        Assert.Equal([7], await TestData.ReadAsync(store, "abandoned"));
    }

    [Fact]
    public async Task DeleteAsync_Existing_RemovesIt_Missing_ThrowsNotFound()
    {
        var store = await fixture.NewStoreAsync();
        await TestData.WriteAsync(store, "d", [1]);

        await store.DeleteAsync("d");

        Assert.Null(await store.GetInfoAsync("d"));
        await Assert.ThrowsAsync<BackupObjectNotFoundException>(() => store.DeleteAsync("d"));
    }

    [Fact]
    public async Task CommitAsync_RetainUntilOnAzurite_RecordsNotSupportedAndKeepsObject()
    {
        var store = await fixture.NewStoreAsync();

        var info = await TestData.WriteAsync(store, "worm", [1, 2],
            new BackupObjectWriteOptions { RetainUntil = DateTimeOffset.UtcNow.AddDays(7) });

        Assert.Null(info.RetainUntil);
        var outcome = store.LastImmutabilityOutcome;
        Assert.NotNull(outcome);
        Assert.False(outcome.Applied);
        Assert.Contains("immutability not supported by this endpoint", outcome.Detail, StringComparison.Ordinal);
        Assert.Contains("501", outcome.Detail, StringComparison.Ordinal);
        Assert.NotNull(await store.GetInfoAsync("worm"));
    }

    [Fact]
    public async Task CommitAsync_RequireImmutabilityOnAzurite_FailsAndLeavesNothing()
    {
        var store = await fixture.NewStoreAsync();

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => TestData.WriteAsync(store, "worm", [1, 2],
            new BackupObjectWriteOptions { RetainUntil = DateTimeOffset.UtcNow.AddDays(7), RequireImmutability = true }));

        Assert.Contains("immutability not supported by this endpoint", ex.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetInfoAsync("worm"));
    }

    [Fact]
    public async Task OpenWriteAsync_RequireImmutabilityWithoutRetainUntil_Throws()
    {
        var store = await fixture.NewStoreAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenWriteAsync("x", new BackupObjectWriteOptions { RequireImmutability = true }));
    }

    [Fact]
    public async Task SetLegalHoldAsync_OnAzurite_ReportsNotSupported()
    {
        var store = await fixture.NewStoreAsync();
        await TestData.WriteAsync(store, "hold", [1]);

        var outcome = await store.SetLegalHoldAsync("hold", hold: true);

        Assert.False(outcome.Applied);
        Assert.StartsWith(ImmutabilityOutcome.NotSupported, outcome.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("dir/")]
    [InlineData("a//b")]
    [InlineData("a/../b")]
    [InlineData("a b")]
    [InlineData("dir/.hidden")]
    public async Task Operations_InvalidName_ThrowArgumentException(string name)
    {
        var store = await fixture.NewStoreAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.OpenWriteAsync(name, new BackupObjectWriteOptions()));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetInfoAsync(name));
    }

    [Fact]
    public async Task Operations_MissingContainer_FailWithContainerMessage()
    {
        var options = fixture.Options(AzuriteFixture.NewContainer());
        var store = new BlobBackupStore(options, BlobCredential.FromSharedKey(AzuriteProcess.AccountName, AzuriteProcess.AccountKey));

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => store.GetInfoAsync("x"));

        Assert.Contains("container does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains("etcd-backup store init", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.IsType<global::Azure.RequestFailedException>(ex.InnerException);
    }
}
