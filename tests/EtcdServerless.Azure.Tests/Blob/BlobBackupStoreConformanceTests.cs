using EtcdServerless.Azure.Blob;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Azurite;
using EtcdServerless.Testing.Storage;

namespace EtcdServerless.Azure.Tests.Blob;

/// <summary>The store conformance suite against <see cref="BlobBackupStore"/> on a real Azurite, a fresh container per store.</summary>
[Collection(AzuriteGroup.Name)]
[Trait("Category", "Azure")]
public sealed class BlobBackupStoreConformanceTests(AzuriteFixture fixture) : BackupStoreConformanceTests
{
    protected override async Task<IBackupStore> CreateStoreAsync() => await fixture.NewStoreAsync();

    protected override Task<IBackupStore> CreateMissingStoreAsync() =>
        Task.FromResult<IBackupStore>(new BlobBackupStore(fixture.Options(AzuriteFixture.NewContainer()),
            BlobCredential.FromSharedKey(AzuriteProcess.AccountName, AzuriteProcess.AccountKey)));
}
