using EtcdServerless.Azure.KeyVault;
using EtcdServerless.Azure.Tests.Fakes;

namespace EtcdServerless.Azure.Tests.KeyVault;

/// <summary>The real SecretClient path against <see cref="FakeKeyVaultServer"/> (no Key Vault emulator exists).</summary>
[Trait("Category", "Azure")]
public sealed class KeyVaultKeyStoreTests : IAsyncLifetime
{
    private FakeKeyVaultServer _vault = null!;
    private readonly FakeTokenCredential _credential = new();

    public async Task InitializeAsync() => _vault = await FakeKeyVaultServer.StartAsync();

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private KeyVaultKeyStore Store(string name = "etcd-kek") => new(_vault.CreateClient(_credential), name);

    [Fact]
    public async Task InitializeAsync_NoSecret_CreatesFirstVersionThroughChallenge()
    {
        var store = Store();

        using var key = await store.InitializeAsync();

        Assert.Equal("etcd-kek", key.KeyId);
        Assert.Equal(32, key.Material.Length);
        Assert.True(_vault.Challenges >= 1);
        Assert.Contains("https://vault.azure.net/.default", _credential.RequestedScopes);
        using var again = await store.InitializeAsync();
        Assert.Equal(key.Version, again.Version);
        Assert.Equal(key.Material.ToArray(), again.Material.ToArray());
    }

    [Fact]
    public async Task RotateAsync_NewVersionIsCurrent_OldVersionStillReadable()
    {
        var store = Store();
        using var first = await store.InitializeAsync();

        using var second = await store.RotateAsync();
        using var third = await store.RotateAsync();

        Assert.NotEqual(first.Version, second.Version);
        using var current = await store.GetCurrentAsync();
        Assert.Equal(third.Version, current.Version);
        using var old = await store.GetAsync("etcd-kek", first.Version);
        Assert.Equal(first.Material.ToArray(), old.Material.ToArray());
        Assert.NotEqual(first.Material.ToArray(), third.Material.ToArray());
        var versions = await store.ListVersionsAsync();
        Assert.Equal([first.Version, second.Version, third.Version], versions.Select(v => v.Version));
    }

    [Fact]
    public async Task GetAsync_MissingVersion_ThrowsKeyNotFound()
    {
        var store = Store();
        using var key = await store.InitializeAsync();

        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetAsync("etcd-kek", "0123456789abcdef0123456789abcdef"));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetAsync("other-key", key.Version));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.GetAsync("etcd-kek", "../x"));
    }

    [Fact]
    public async Task GetCurrentAsync_NoSecret_ThrowsKeyNotFoundWithInitHint()
    {
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => Store().GetCurrentAsync());

        Assert.Contains("keys init", ex.Message, StringComparison.Ordinal);
        Assert.Empty(await Store().ListVersionsAsync());
    }

    [Fact]
    public async Task AnyCall_VaultForbids_ThrowsUnauthorizedWithRoleHint()
    {
        _vault.ForbidAll = true;

        var ex = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Store().InitializeAsync());

        Assert.Contains("403", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Key Vault Secrets", ex.Message, StringComparison.Ordinal);
        Assert.IsType<global::Azure.RequestFailedException>(ex.InnerException);
    }

    [Fact]
    public async Task GetCurrentAsync_ForeignSecret_ThrowsInvalidData()
    {
        _vault.Seed("db-password", "hunter2", "text/plain");
        _vault.Seed("short-kek", Convert.ToBase64String(new byte[16]), KeyVaultKeyStore.ContentType);

        await Assert.ThrowsAsync<InvalidDataException>(() => Store("db-password").GetCurrentAsync());
        await Assert.ThrowsAsync<InvalidDataException>(() => Store("short-kek").GetCurrentAsync());
    }

    [Fact]
    public void Description_IsTheSecretUri()
    {
        Assert.Equal($"{_vault.VaultUri}secrets/etcd-kek", Store().Description);
    }

    [Theory]
    [InlineData("https://v.vault.azure.net/secrets/kek", "https://v.vault.azure.net/", "kek")]
    [InlineData("https://v.vault.azure.net/secrets/kek/", "https://v.vault.azure.net/", "kek")]
    public void Parse_SecretUri_SplitsVaultAndName(string uri, string vault, string name)
    {
        var parsed = KeyVaultSecretUri.Parse(new Uri(uri));

        Assert.Equal(new Uri(vault), parsed.VaultUri);
        Assert.Equal(name, parsed.SecretName);
    }

    [Theory]
    [InlineData("http://v.vault.azure.net/secrets/kek")]
    [InlineData("https://v.vault.azure.net/keys/kek")]
    [InlineData("https://v.vault.azure.net/secrets/kek/abcdef")]
    [InlineData("https://v.vault.azure.net/secrets/bad_name")]
    public void Parse_BadUri_ThrowsFormatException(string uri)
    {
        Assert.Throws<FormatException>(() => KeyVaultSecretUri.Parse(new Uri(uri)));
    }
}
