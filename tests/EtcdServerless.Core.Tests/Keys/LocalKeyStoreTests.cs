using System.Runtime.Versioning;
using EtcdServerless.Core.Keys;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Keys;

[UnsupportedOSPlatform("windows")]
public sealed class LocalKeyStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new("h3-keys");

    public void Dispose() => _dir.Dispose();

    private LocalKeyStore NewStore() => new(_dir.Combine("keys"));

    [Fact]
    public async Task GetCurrentAsync_BeforeInit_ThrowsWithInitHint()
    {
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => NewStore().GetCurrentAsync());

        Assert.Contains("etcd-backup keys init", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RotateAsync_BeforeInit_ThrowsWithInitHint()
    {
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => NewStore().RotateAsync());

        Assert.Contains("keys init", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InitializeAsync_FreshDirectory_CreatesPrivateVersionOne()
    {
        var store = NewStore();

        using var key = await store.InitializeAsync();

        Assert.Equal("1", key.Version);
        Assert.Equal(LocalKeyStore.DefaultKeyId, key.KeyId);
        var file = Path.Combine(store.Directory, LocalKeyStore.DefaultKeyId, "1.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.Directory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, ".*"));
    }

    [Fact]
    public async Task InitializeAsync_Twice_ReturnsTheSameKey()
    {
        var store = NewStore();
        using var first = await store.InitializeAsync();

        using var second = await NewStore().InitializeAsync();

        Assert.Equal(first.Version, second.Version);
        Assert.True(first.Material.SequenceEqual(second.Material));
    }

    [Fact]
    public async Task RotateAsync_AfterInit_AddsNewCurrentVersionAndKeepsOld()
    {
        var store = NewStore();
        using var v1 = await store.InitializeAsync();

        using var v2 = await store.RotateAsync();
        using var current = await store.GetCurrentAsync();
        using var old = await store.GetAsync(LocalKeyStore.DefaultKeyId, "1");

        Assert.Equal("2", v2.Version);
        Assert.Equal("2", current.Version);
        Assert.True(current.Material.SequenceEqual(v2.Material));
        Assert.True(old.Material.SequenceEqual(v1.Material));
        Assert.False(v1.Material.SequenceEqual(v2.Material));
        var versions = await store.ListVersionsAsync();
        Assert.Equal(["1", "2"], versions.Select(v => v.Version));
    }

    [Theory]
    [InlineData("etcd-backup-kek", "3")]
    [InlineData("etcd-backup-kek", "x")]
    [InlineData("etcd-backup-kek", "0")]
    [InlineData("other-kek", "1")]
    public async Task GetAsync_UnknownVersion_ThrowsKeyNotFound(string keyId, string version)
    {
        var store = NewStore();
        using var v1 = await store.InitializeAsync();

        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetAsync(keyId, version));
    }

    [Fact]
    public async Task GetCurrentAsync_KeyFileReadableByOthers_Refuses()
    {
        var store = NewStore();
        using var v1 = await store.InitializeAsync();
        var file = Path.Combine(store.Directory, LocalKeyStore.DefaultKeyId, "1.key");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var ex = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => store.GetCurrentAsync());

        Assert.Contains("chmod 600", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCurrentAsync_CorruptKeyFile_ThrowsInvalidData()
    {
        var store = NewStore();
        using var v1 = await store.InitializeAsync();
        var file = Path.Combine(store.Directory, LocalKeyStore.DefaultKeyId, "1.key");
        await File.WriteAllTextAsync(file, "{ not json");

        await Assert.ThrowsAsync<InvalidDataException>(() => store.GetCurrentAsync());
    }

    [Fact]
    public async Task RotateAsync_Concurrently_NeverOverwritesAVersion()
    {
        var store = NewStore();
        using var v1 = await store.InitializeAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            try
            {
                using var key = await NewStore().RotateAsync();
                return key.Version + ":" + Convert.ToBase64String(key.Material);
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        })));

        foreach (var result in results.Where(r => r is not null))
        {
            var version = result!.Split(':')[0];
            using var stored = await store.GetAsync(LocalKeyStore.DefaultKeyId, version);
            Assert.Equal(result, version + ":" + Convert.ToBase64String(stored.Material));
        }

        Assert.Contains(results, r => r is not null);
    }

    [Theory]
    [InlineData("store/keys", "store")]
    [InlineData("store", "store")]
    [InlineData("keys", "keys/store")]
    public void EnsureSeparate_Overlapping_Throws(string keys, string store)
    {
        Directory.CreateDirectory(_dir.Combine(store));

        Assert.Throws<InvalidOperationException>(() => LocalKeyStore.EnsureSeparate(_dir.Combine(keys), _dir.Combine(store)));
    }

    [Fact]
    public void EnsureSeparate_Siblings_Passes()
    {
        LocalKeyStore.EnsureSeparate(_dir.Combine("keys"), _dir.Combine("keys-store"));
    }

    [Fact]
    public void EnsureSeparate_KeysUnderSymlinkToStore_Throws()
    {
        Directory.CreateDirectory(_dir.Combine("store"));
        Directory.CreateSymbolicLink(_dir.Combine("alias"), _dir.Combine("store"));

        Assert.Throws<InvalidOperationException>(() => LocalKeyStore.EnsureSeparate(_dir.Combine("alias", "keys"), _dir.Combine("store")));
    }
}
