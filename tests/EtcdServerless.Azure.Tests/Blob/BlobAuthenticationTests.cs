using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Azure.Core.Diagnostics;
using EtcdServerless.Azure.Blob;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Azurite;

namespace EtcdServerless.Azure.Tests.Blob;

[Collection(AzuriteGroup.Name)]
[Trait("Category", "Azure")]
public sealed class BlobAuthenticationTests(AzuriteFixture fixture)
{
    [Fact]
    public async Task SharedKey_AllOperations_AreAccepted()
    {
        var store = await fixture.NewStoreAsync();
        const string name = "dir_one/2026/b-x.snap.enc";

        await TestData.WriteAsync(store, name, [1, 2, 3], new BackupObjectWriteOptions { Tags = new Dictionary<string, string> { ["k"] = "v 1" } });

        Assert.Equal([1, 2, 3], await TestData.ReadAsync(store, name));
        Assert.Equal(name, Assert.Single(await TestData.ListAsync(store, "dir_one/")).Name);
        Assert.Equal("v 1", (await store.GetTagsAsync(name))["k"]);
        await store.DeleteAsync(name);
    }

    [Fact]
    public async Task SharedKey_WrongKey_FailsWithAccessDenied()
    {
        var container = AzuriteFixture.NewContainer();
        await fixture.Azurite.CreateContainerAsync(container);
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var store = new BlobBackupStore(fixture.Options(container), BlobCredential.FromSharedKey(AzuriteProcess.AccountName, wrongKey));

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => TestData.ListAsync(store));

        Assert.Contains("403", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sas_AccountSas_WritesReadsListsTagsAndNeverLogsSignature()
    {
        var container = AzuriteFixture.NewContainer();
        await fixture.Azurite.CreateContainerAsync(container);
        var sas = AzuriteProcess.CreateAccountSas("rwdlacupitf", DateTimeOffset.UtcNow.AddHours(1));
        var signature = Uri.UnescapeDataString(sas.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))[4..]);
        var logged = new ConcurrentQueue<string>();
        using var listener = new AzureEventSourceListener((e, message) => logged.Enqueue(message), EventLevel.Verbose);
        var store = new BlobBackupStore(fixture.Options(container), BlobCredential.FromSas(sas));

        await TestData.WriteAsync(store, "s/a", TestData.Random(150_000, seed: 5), new BackupObjectWriteOptions { Tags = new Dictionary<string, string> { ["a"] = "b" } });
        Assert.Equal(150_000, (await TestData.ReadAsync(store, "s/a")).Length);
        Assert.Single(await TestData.ListAsync(store, "s/"));
        Assert.Equal("b", (await store.GetTagsAsync("s/a"))["a"]);

        Assert.NotEmpty(logged);
        Assert.Contains(logged, m => m.Contains("comp=block", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, m => m.Contains(signature, StringComparison.Ordinal)
            || m.Contains(Uri.EscapeDataString(signature), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sas_TamperedSignature_FailsWithAccessDenied()
    {
        var container = AzuriteFixture.NewContainer();
        await fixture.Azurite.CreateContainerAsync(container);
        var sas = AzuriteProcess.CreateAccountSas("rl", DateTimeOffset.UtcNow.AddHours(1));
        var tampered = sas[..sas.IndexOf("sig=", StringComparison.Ordinal)] + "sig=" + Uri.EscapeDataString(Convert.ToBase64String(new byte[32]));
        var store = new BlobBackupStore(fixture.Options(container), BlobCredential.FromSas(tampered));

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => TestData.ListAsync(store));

        Assert.Contains("403", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sas_ReadOnlyPermissions_WriteIsDenied()
    {
        var container = AzuriteFixture.NewContainer();
        await fixture.Azurite.CreateContainerAsync(container);
        var store = new BlobBackupStore(fixture.Options(container), BlobCredential.FromSas(AzuriteProcess.CreateAccountSas("rl", DateTimeOffset.UtcNow.AddHours(1))));

        await Assert.ThrowsAsync<BackupStoreException>(() => TestData.WriteAsync(store, "w", [1]));
        Assert.Empty(await TestData.ListAsync(store));
    }

    [Fact]
    public async Task FromUri_SasUrl_UsesTheSasAndDescriptionHidesIt()
    {
        var container = AzuriteFixture.NewContainer();
        await fixture.Azurite.CreateContainerAsync(container);
        var sas = AzuriteProcess.CreateAccountSas("rwdlacupitf", DateTimeOffset.UtcNow.AddHours(1));
        var uri = new Uri($"{fixture.Azurite.BlobEndpoint}/{container}/prefix?{sas}");

        var store = BlobBackupStore.FromUri(uri);
        await TestData.WriteAsync(store, "x", [9]);

        Assert.Equal($"{fixture.Azurite.BlobEndpoint}/{container}/prefix", store.Description);
        Assert.DoesNotContain("sig", store.Description, StringComparison.Ordinal);
        Assert.Equal([9], await TestData.ReadAsync(store, "x"));
    }

    [Fact]
    public void Token_OverPlainHttp_IsRefusedBeforeSending()
    {
        // Bearer tokens must never travel unencrypted: the store refuses to be built on an http endpoint.
        var ex = Assert.Throws<ArgumentException>(() =>
            new BlobBackupStore(fixture.Options("any-container"), BlobCredential.FromToken(new Fakes.FakeTokenCredential())));

        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
    }
}
