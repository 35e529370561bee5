using EtcdServerless.Azure;
using EtcdServerless.Azure.Blob;
using EtcdServerless.Azure.KeyVault;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Functions;

/// <summary>Registers the Core backup pipeline from app settings.</summary>
internal static class FunctionsComposition
{
    /// <summary>App setting naming the user-assigned managed identity (empty = DefaultAzureCredential).</summary>
    public const string ManagedIdentityClientIdSetting = "AZURE_CLIENT_ID";

    public static IServiceCollection AddEtcdBackupFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => EtcdBackupConfiguration.Load(configuration, AppContext.BaseDirectory, "app settings"));
        services.AddSingleton(sp => AzureCredentials.Create(configuration[ManagedIdentityClientIdSetting]));
        services.AddSingleton<IBackupStore>(sp =>
        {
            var options = sp.GetRequiredService<EtcdBackupOptions>().Store;
            var location = StoreLocation.TryParseStore(options.Uri ?? "", out var error)
                ?? throw new InvalidOperationException($"Store:Uri: {error}");
            return location.Kind == LocationKind.LocalDirectory
                ? new LocalDirectoryBackupStore(location.LocalPath!, TimeSpan.FromDays(options.ImmutabilityDays))
                : BlobBackupStore.FromUri(location.Uri, sp.GetRequiredService<Azure.Core.TokenCredential>(), options.AccountKey,
                    sp.GetRequiredService<ILogger<BlobBackupStore>>());
        });
        services.AddSingleton<IKeyStore>(sp =>
        {
            var options = sp.GetRequiredService<EtcdBackupOptions>().Keys;
            var location = StoreLocation.TryParseKeys(options.Uri ?? "", out var error)
                ?? throw new InvalidOperationException($"Keys:Uri: {error}");
            return location.Kind == LocationKind.LocalDirectory
                ? new LocalKeyStore(location.LocalPath!)
                : KeyVaultKeyStore.FromUri(location.Uri, sp.GetRequiredService<Azure.Core.TokenCredential>(), logger: sp.GetRequiredService<ILogger<KeyVaultKeyStore>>());
        });
        services.AddSingleton(sp => new BackupEnvironment(
            sp.GetRequiredService<EtcdBackupOptions>(),
            sp.GetRequiredService<IBackupStore>(),
            sp.GetRequiredService<IKeyStore>(),
            pipeline: new BackupPipelineOptions { ConsistencyCheck = configuration.GetValue("Backup:ConsistencyCheck", false) },
            timeProvider: sp.GetRequiredService<TimeProvider>(),
            loggerFactory: sp.GetRequiredService<ILoggerFactory>()));

        // The same orchestrator and activity classes the CLI runs in-process.
        services.AddSingleton(sp => new BackupOrchestration(sp.GetRequiredService<BackupEnvironment>().Pipeline, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new CaptureSnapshotActivity(sp.GetRequiredService<BackupEnvironment>()));
        services.AddSingleton(sp => new ConsistencyCheckActivity(sp.GetRequiredService<BackupEnvironment>()));
        services.AddSingleton(sp => new WriteManifestActivity(sp.GetRequiredService<BackupEnvironment>()));
        services.AddSingleton(sp => new ApplyRetentionActivity(sp.GetRequiredService<BackupEnvironment>()));

        // Restore: the agents' mutual TLS needs the orchestrator's client certificate (Restore:AgentTls).
        services.AddSingleton(sp =>
        {
            var tls = sp.GetRequiredService<EtcdBackupOptions>().Restore.AgentTls;
            return new AgentClient(new AgentClientOptions
            {
                CertFile = tls.CertFile,
                KeyFile = tls.KeyFile,
                CaFile = tls.CaFile,
                ServerThumbprints = [.. tls.ServerThumbprints],
                TimeoutSeconds = tls.TimeoutSeconds,
            });
        });
        services.AddSingleton(sp => new RestoreServices(
            sp.GetRequiredService<IBackupStore>(),
            sp.GetRequiredService<IKeyStore>(),
            sp.GetRequiredService<EtcdBackupOptions>(),
            sp.GetRequiredService<AgentClient>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new RestoreOrchestration(sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => new RestoreActivities(sp.GetRequiredService<RestoreServices>()));
        return services;
    }
}
