using EtcdServerless.Azure.Blob;
using EtcdServerless.Testing.Azurite;

namespace EtcdServerless.Azure.Tests.Blob;

/// <summary>One real Azurite process shared by the blob test classes; each test uses its own container.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite is not started.");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    /// <summary>A fresh container name.</summary>
    public static string NewContainer() => "t" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Options for a container on this Azurite (or on <paramref name="endpoint"/>, e.g. a proxy), with small transfer sizes.</summary>
    internal BlobStoreOptions Options(string container, Uri? endpoint = null, string prefix = "") =>
        new()
        {
            AccountEndpoint = endpoint ?? Azurite.BlobEndpoint,
            AccountName = AzuriteProcess.AccountName,
            Container = container,
            Prefix = prefix,
            BlockSize = 64 * 1024,
            MaxConcurrency = 3,
            MaxBlocksInFlight = 3,
            ReadRangeSize = 50_000,
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>A Shared Key store on a new container that already exists.</summary>
    internal async Task<BlobBackupStore> NewStoreAsync(Func<BlobStoreOptions, BlobStoreOptions>? tweak = null)
    {
        var options = Options(NewContainer());
        options = tweak?.Invoke(options) ?? options;
        var store = new BlobBackupStore(options, BlobCredential.FromSharedKey(AzuriteProcess.AccountName, AzuriteProcess.AccountKey));
        await store.CreateContainerIfNotExistsAsync();
        return store;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteGroup : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
