using System.Runtime.CompilerServices;
using Azure.Core;
using EtcdServerless.Azure;
using EtcdServerless.Azure.Blob;
using EtcdServerless.Azure.KeyVault;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.Composition;

/// <summary>Builds the backup store and the key store named by <c>Store:Uri</c> and <c>Keys:Uri</c>.</summary>
internal static class StoreFactory
{
    /// <summary>
    /// <c>file://</c> → the local WORM directory store; <c>http(s)://</c> → the Blob store, authenticated by
    /// <c>Store:SasToken</c>, else <c>Store:AccountKey</c> (Shared Key, Azurite/dev), else managed identity /
    /// <c>DefaultAzureCredential</c>; <c>s3://bucket/prefix</c> → the S3 store (<c>Store:S3:*</c>, else the AWS SDK's
    /// environment and credential chain). A <see cref="TokenCredential"/> registered in <paramref name="services"/>
    /// replaces <c>DefaultAzureCredential</c>.
    /// </summary>
    public static IBackupStore CreateBackupStore(StoreOptions store, TimeProvider time, ILoggerFactory loggerFactory, IServiceProvider? services = null)
    {
        var location = StoreLocation.TryParseStore(store.Uri ?? "", out var error)
            ?? throw new InvalidOperationException($"Store:Uri: {error}");
        if (location.Kind == LocationKind.LocalDirectory)
        {
            return new LocalDirectoryBackupStore(location.LocalPath!, TimeSpan.FromDays(store.ImmutabilityDays), time);
        }

        if (location.Kind == LocationKind.S3Bucket)
        {
            return S3StoreFactory.Create(location, store, time, loggerFactory.CreateLogger<S3BackupStore>());
        }

        return CreateBlobStore(location, store, loggerFactory, services);
    }

    // Azure.Core (with System.ClientModel) is loaded only from here and CreateKeyVaultStore: a backup to a local or
    // S3 store never maps it (1.7 MiB of its peak RSS, docs/benchmarks.md "Peak RSS (issue 10)").
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static BlobBackupStore CreateBlobStore(StoreLocation location, StoreOptions store, ILoggerFactory loggerFactory, IServiceProvider? services)
    {
        var uri = location.Uri;
        if (!string.IsNullOrEmpty(store.SasToken))
        {
            uri = new UriBuilder(uri) { Query = store.SasToken.TrimStart('?') }.Uri;
        }

        var accountKey = string.IsNullOrEmpty(store.AccountKey) ? null : store.AccountKey;
        var token = accountKey is null && string.IsNullOrEmpty(store.SasToken) ? services?.GetService<TokenCredential>() ?? AzureCredentials.Create() : null;
        return BlobBackupStore.FromUri(uri, token, accountKey, loggerFactory.CreateLogger<BlobBackupStore>());
    }

    /// <summary><c>file://</c> → the local key directory (kept apart from a local store); <c>https://x.vault.azure.net/secrets/name</c> → Key Vault.</summary>
    public static IKeyStore CreateKeyStore(KeysOptions keys, StoreOptions store, TimeProvider time, ILoggerFactory loggerFactory, IServiceProvider? services = null)
    {
        var location = StoreLocation.TryParseKeys(keys.Uri ?? "", out var error)
            ?? throw new InvalidOperationException($"Keys:Uri: {error}");
        if (location.Kind == LocationKind.LocalDirectory)
        {
            if (StoreLocation.TryParseStore(store.Uri ?? "", out _) is { Kind: LocationKind.LocalDirectory, LocalPath: { } storeDir })
            {
                LocalKeyStore.EnsureSeparate(location.LocalPath!, storeDir);
            }

            return new LocalKeyStore(location.LocalPath!, timeProvider: time);
        }

        return CreateKeyVaultStore(location, loggerFactory, services);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static KeyVaultKeyStore CreateKeyVaultStore(StoreLocation location, ILoggerFactory loggerFactory, IServiceProvider? services) =>
        KeyVaultKeyStore.FromUri(location.Uri, services?.GetService<TokenCredential>() ?? AzureCredentials.Create(), logger: loggerFactory.CreateLogger<KeyVaultKeyStore>());
}
