using EtcdServerless.Azure.Blob;
using EtcdServerless.Azure.Tests.Fakes;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Azurite;

namespace EtcdServerless.Azure.Tests.Blob;

/// <summary>Faults injected between the store and a real Azurite by a loopback proxy.</summary>
[Collection(AzuriteGroup.Name)]
[Trait("Category", "Azure")]
public sealed class BlobFaultTests(AzuriteFixture fixture)
{
    private static bool IsPutBlock(string request) => request.StartsWith("PUT ", StringComparison.Ordinal) && request.Contains("comp=block&", StringComparison.Ordinal);

    private static bool IsPutBlockList(string request) => request.Contains("comp=blocklist", StringComparison.Ordinal);

    [Fact]
    public async Task Write_First503s_AreRetriedAndSucceed()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (n, _) => n <= 3 ? Fault.ServiceUnavailable : Fault.None;
        var (store, direct) = await StoresAsync(proxy);
        var data = TestData.Random(300_000, seed: 20);

        await TestData.WriteAsync(store, "a", data);

        Assert.Equal(3, proxy.Faults);
        Assert.Equal(data, await TestData.ReadAsync(direct, "a"));
    }

    [Fact]
    public async Task Write_ManyBlocks_StagesInParallelButNeverMoreThanMaxBlocksInFlight()
    {
        // Slow block uploads make the writer run into its limit: memory stays bounded by the blocks in flight.
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => IsPutBlock(r) ? Fault.Delay : Fault.None;
        proxy.Delay = TimeSpan.FromMilliseconds(300);
        var (store, direct) = await StoresAsync(proxy, o => o with { MaxBlocksInFlight = 3, MaxConcurrency = 1 });
        var data = TestData.Random((64 * 1024 * 12) + 5, seed: 27);

        await TestData.WriteAsync(store, "wide", data);

        Assert.InRange(proxy.PeakInFlight, 2, 3);
        Assert.Equal(13, proxy.Faults);
        Assert.Equal(data, await TestData.ReadAsync(direct, "wide"));
    }

    [Theory]
    [InlineData(1, -1)]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(3, -1)]
    [InlineData(3, 0)]
    [InlineData(3, 1)]
    [InlineData(3, 64 * 1024 * 9)]
    public async Task Write_SlowUploads_NeverAllocatesMoreThanMaxBlocksInFlightPlusOneBuffers(int inFlight, int bytesPastLimit)
    {
        // Slow block uploads keep every slot busy, so the writer fills blocks while all its buffers are out:
        // lengths around (MaxBlocksInFlight + 1) blocks, the most buffers that may exist at once, and well past it.
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => IsPutBlock(r) ? Fault.Delay : Fault.None;
        proxy.Delay = TimeSpan.FromMilliseconds(100);
        var (store, direct) = await StoresAsync(proxy, o => o with { MaxBlocksInFlight = inFlight });
        const int blockSize = 64 * 1024;
        var data = TestData.Random((blockSize * (inFlight + 1)) + bytesPastLimit, seed: 28 + bytesPastLimit);
        var blocks = (data.Length + blockSize - 1) / blockSize;

        await using (var writer = (BlockBlobWriter)await store.OpenWriteAsync("bounded", new BackupObjectWriteOptions()))
        {
            for (var offset = 0; offset < data.Length; offset += 10_000)
            {
                await writer.Content.WriteAsync(data.AsMemory(offset, Math.Min(10_000, data.Length - offset)));
            }

            await writer.CommitAsync();
            Assert.InRange(writer.BuffersAllocated, 1, Math.Min(blocks, inFlight + 1));
        }

        Assert.Equal(data, await TestData.ReadAsync(direct, "bounded"));
    }

    [Fact]
    public async Task Read_RangeGets503_AreRetriedAndSucceed()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        var (store, direct) = await StoresAsync(proxy);
        var data = TestData.Random(260_000, seed: 21);
        await TestData.WriteAsync(direct, "a", data);
        var gets = 0;
        proxy.Rule = (_, r) => r.StartsWith("GET ", StringComparison.Ordinal) && Interlocked.Increment(ref gets) % 2 == 1 ? Fault.ServiceUnavailable : Fault.None;

        Assert.Equal(data, await TestData.ReadAsync(store, "a"));
        Assert.True(proxy.Faults >= 3);
    }

    [Fact]
    public async Task Write_PutBlockAlways503_FailsCleanlyWithNothingCommitted()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => IsPutBlock(r) ? Fault.ServiceUnavailable : Fault.None;
        var (store, direct) = await StoresAsync(proxy, o => o with { MaxRetries = 2 });

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => TestData.WriteAsync(store, "a", TestData.Random(300_000, seed: 22)));

        Assert.Contains("503", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ServerBusy", ex.Message, StringComparison.Ordinal);
        Assert.Null(await direct.GetInfoAsync("a"));
        Assert.Empty(await TestData.ListAsync(direct));
    }

    [Fact]
    public async Task Write_DelayPastTimeout_IsRetriedAndSucceeds()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        var delayed = 0;
        proxy.Rule = (_, r) => IsPutBlock(r) && Interlocked.Exchange(ref delayed, 1) == 0 ? Fault.Delay : Fault.None;
        proxy.Delay = TimeSpan.FromSeconds(4);
        var (store, direct) = await StoresAsync(proxy, o => o with { NetworkTimeout = TimeSpan.FromSeconds(1) });
        var data = TestData.Random(200_000, seed: 23);

        await TestData.WriteAsync(store, "a", data);

        Assert.Equal(1, proxy.Faults);
        Assert.Equal(data, await TestData.ReadAsync(direct, "a"));
    }

    [Fact]
    public async Task Write_DelayOnEveryTry_FailsWithTimeoutAndNothingCommitted()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => IsPutBlockList(r) ? Fault.Delay : Fault.None;
        proxy.Delay = TimeSpan.FromSeconds(3);
        var (store, direct) = await StoresAsync(proxy, o => o with { NetworkTimeout = TimeSpan.FromSeconds(1), MaxRetries = 1 });

        await Assert.ThrowsAsync<BackupStoreException>(() => TestData.WriteAsync(store, "a", TestData.Random(100_000, seed: 24)));

        // The delayed Put Block List never reaches Azurite after the client gave up, so nothing was committed.
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        Assert.Empty(await TestData.ListAsync(direct));
    }

    [Fact]
    public async Task Write_ConnectionResetMidBlock_IsRetriedAndSucceeds()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        var resets = 0;
        proxy.Rule = (_, r) => IsPutBlock(r) && Interlocked.Increment(ref resets) <= 2 ? Fault.ResetMidBody : Fault.None;
        var (store, direct) = await StoresAsync(proxy);
        var data = TestData.Random(300_000, seed: 25);

        await TestData.WriteAsync(store, "a", data);

        Assert.Equal(2, proxy.Faults);
        Assert.Equal(data, await TestData.ReadAsync(direct, "a"));
    }

    [Fact]
    public async Task Commit_ConnectionResetEveryTry_FailsCleanlyWithNothingListed()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => IsPutBlockList(r) ? Fault.ResetMidBody : Fault.None;
        var (store, direct) = await StoresAsync(proxy, o => o with { MaxRetries = 2 });

        var ex = await Assert.ThrowsAsync<BackupStoreException>(() => TestData.WriteAsync(store, "a", TestData.Random(100_000, seed: 26)));

        Assert.NotNull(ex.InnerException);
        Assert.Equal(3, proxy.Faults);
        Assert.Empty(await TestData.ListAsync(direct));
    }

    [Fact]
    public async Task Delete_ServiceSaysImmutable_ThrowsImmutableAndKeepsObject()
    {
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => r.StartsWith("DELETE ", StringComparison.Ordinal) ? Fault.ImmutableConflict : Fault.None;
        var (store, direct) = await StoresAsync(proxy);
        await TestData.WriteAsync(direct, "worm", [1]);

        var ex = await Assert.ThrowsAsync<BackupObjectImmutableException>(() => store.DeleteAsync("worm"));

        Assert.Contains("BlobImmutableDueToPolicy", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(await direct.GetInfoAsync("worm"));
    }

    [Fact]
    public async Task Commit_ServiceAcceptsImmutabilityPolicy_RecordsRetainUntil()
    {
        // Stands in for real Azure (Azurite answers 501): the policy request is answered 200 by the proxy.
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        proxy.Rule = (_, r) => r.Contains("comp=immutabilityPolicies", StringComparison.Ordinal) ? Fault.AcceptWithoutForwarding : Fault.None;
        var (store, _) = await StoresAsync(proxy);
        var until = DateTimeOffset.UtcNow.AddDays(30);

        var info = await TestData.WriteAsync(store, "worm", [1, 2],
            new BackupObjectWriteOptions { RetainUntil = until, RequireImmutability = true });

        Assert.Equal(until, info.RetainUntil);
        Assert.True(store.LastImmutabilityOutcome?.Applied);
        Assert.Equal(1, proxy.Faults);
    }

    [Fact]
    public async Task Commit_ContainerDefaultPolicyAndNoSetPermission_UsesInheritedRetention()
    {
        // Azure with least privilege: the container's default policy protects the blob, and the app's role
        // may not call Set Blob Immutability Policy (403). Requiring immutability must still succeed.
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        var inherited = new DateTimeOffset(DateTimeOffset.UtcNow.AddDays(31).UtcDateTime.Date, TimeSpan.Zero);
        proxy.InheritedRetainUntil = inherited;
        var policyCalls = 0;
        proxy.Rule = (_, r) => r.Contains("comp=immutabilityPolicies", StringComparison.Ordinal)
            ? (Interlocked.Increment(ref policyCalls) > 0 ? Fault.Forbidden : Fault.None)
            : r.StartsWith("HEAD ", StringComparison.Ordinal) ? Fault.InheritedImmutability : Fault.None;
        var (store, direct) = await StoresAsync(proxy);

        var info = await TestData.WriteAsync(store, "worm", [1, 2],
            new BackupObjectWriteOptions { RetainUntil = inherited.AddDays(-1), RequireImmutability = true });

        Assert.Equal(inherited, info.RetainUntil);
        Assert.True(store.LastImmutabilityOutcome?.Applied);
        Assert.Equal(0, policyCalls);
        Assert.NotNull(await direct.GetInfoAsync("worm"));
    }

    [Fact]
    public async Task GetProtectionAsync_ServiceReportsPolicyAndLegalHold_ReadsThemBack()
    {
        // Stands in for real Azure (Azurite reports no protection): the proxy adds the policy and hold headers.
        await using var proxy = await FaultInjectingProxy.StartAsync(fixture.Azurite.BlobEndpoint);
        var until = new DateTimeOffset(DateTimeOffset.UtcNow.AddDays(10).UtcDateTime.Date, TimeSpan.Zero);
        proxy.InheritedRetainUntil = until;
        proxy.InheritedLegalHold = true;
        proxy.Rule = (_, r) => r.StartsWith("HEAD ", StringComparison.Ordinal) ? Fault.InheritedImmutability : Fault.None;
        var (store, direct) = await StoresAsync(proxy);
        await TestData.WriteAsync(direct, "held", [1]);

        var protection = await store.GetProtectionAsync("held");
        var info = await store.GetInfoAsync("held");

        Assert.Equal(new BlobProtection(until, "Unlocked", LegalHold: true), protection);
        Assert.Equal(until, info?.RetainUntil);
        Assert.Equal(new BlobProtection(null, null, LegalHold: false), await direct.GetProtectionAsync("held"));
        Assert.Null(await direct.GetProtectionAsync("missing"));
    }

    private async Task<(BlobBackupStore ThroughProxy, BlobBackupStore Direct)> StoresAsync(FaultInjectingProxy proxy, Func<BlobStoreOptions, BlobStoreOptions>? tweak = null)
    {
        var container = AzuriteFixture.NewContainer();
        await fixture.Azurite.CreateContainerAsync(container);
        var credential = BlobCredential.FromSharedKey(AzuriteProcess.AccountName, AzuriteProcess.AccountKey);
        var options = fixture.Options(container, proxy.Through(fixture.Azurite.BlobEndpoint));
        options = tweak?.Invoke(options) ?? options;
        return (new BlobBackupStore(options, credential), new BlobBackupStore(fixture.Options(container), credential));
    }
}
