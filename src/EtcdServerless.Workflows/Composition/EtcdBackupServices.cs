using EtcdServerless.Azure.KeyVault;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Monitoring;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Workflows.Hosting;
using EtcdServerless.Workflows.Http;
using EtcdServerless.Workflows.InProcess;
using EtcdServerless.Workflows.Instances;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.Composition;

/// <summary>
/// The one composition of the product's services, used by the Function App, <c>serve</c>, the CLI verbs and the
/// tests: options, clock, stores (with the key/store separation check), catalog, the activities' steps and, when
/// <c>Restore:AgentTls</c> is set, the agent client the restore steps use.
/// </summary>
internal static class EtcdBackupServices
{
    /// <summary>The data converter of every host: camelCase JSON with enums as strings (as the HTTP API shows them).</summary>
    public static DataConverter DataConverter { get; } = new Microsoft.DurableTask.Converters.JsonDataConverter(OrchestrationJson.Options);

    /// <summary>Registers everything but the Durable Task client (the host brings it).</summary>
    /// <param name="services">The container.</param>
    /// <param name="options">Validated options.</param>
    /// <param name="pipeline">Backup pipeline settings.</param>
    /// <param name="tls">
    /// TLS settings resolved from Key Vault at start (<see cref="ResolveTlsAsync"/>): the etcd clients of those
    /// clusters and the agent client use these in-memory certificates instead of files. Kept for the process's life.
    /// </param>
    public static IServiceCollection AddEtcdBackup(this IServiceCollection services, EtcdBackupOptions options, BackupPipelineOptions? pipeline = null, ResolvedTlsMaterial? tls = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        if (tls is not null)
        {
            services.AddSingleton(tls);
        }

        var etcdTls = new Dictionary<ClusterOptions, ClusterTlsCertificates>(ReferenceEqualityComparer.Instance);
        foreach (var (name, material) in tls?.Clusters ?? new Dictionary<string, TlsMaterial>())
        {
            etcdTls.Add(options.Clusters[name], new ClusterTlsCertificates(material.TrustedCa, material.ClientCertificate));
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILoggerFactory, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory>();
        services.AddSingleton(options);
        services.AddSingleton(pipeline ?? new BackupPipelineOptions());
        services.TryAddSingleton<BackupMetrics>();
        services.TryAddSingleton(sp => new BackupStatusReader(sp.GetRequiredService<IBackupStore>(), options, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IBackupStore>(sp => StoreFactory.CreateBackupStore(options.Store, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp));
        services.TryAddSingleton<IKeyStore>(sp => StoreFactory.CreateKeyStore(options.Keys, options.Store, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp));
        services.AddSingleton(sp => new BackupCatalog(sp.GetRequiredService<IBackupStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IEtcdClientFactory>(new EtcdClientFactory(etcdTls));
        services.AddSingleton(sp => new BackupEnvironment(
            options,
            sp.GetRequiredService<IBackupStore>(),
            sp.GetRequiredService<IKeyStore>(),
            clients: sp.GetRequiredService<IEtcdClientFactory>(),
            pipeline: sp.GetRequiredService<BackupPipelineOptions>(),
            timeProvider: sp.GetRequiredService<TimeProvider>(),
            loggerFactory: sp.GetRequiredService<ILoggerFactory>()));

        if (RestoreRequests.AreConfigured(options))
        {
            services.AddSingleton(_ => new AgentClient(AgentClientOptionsFactory.Create(options.Restore.AgentTls, tls)));
            services.TryAddSingleton(sp => new RestoreServices(
                sp.GetRequiredService<IBackupStore>(),
                sp.GetRequiredService<IKeyStore>(),
                options,
                sp.GetRequiredService<AgentClient>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>())
            {
                Clients = sp.GetRequiredService<IEtcdClientFactory>(),
            });
        }

        return services.AddWorkflowSteps();
    }

    /// <summary>
    /// Reads the <c>Clusters:*:Tls:*</c> and <c>Restore:AgentTls:*</c> settings that are Key Vault secret URIs into
    /// in-memory certificates, once (hosts call this at start); null when no TLS setting is a secret URI. Nothing is
    /// written to disk.
    /// </summary>
    /// <param name="options">Validated options.</param>
    /// <param name="clientForVault">The <see cref="global::Azure.Security.KeyVault.Secrets.SecretClient"/> of a vault (the app's identity).</param>
    /// <param name="loggerFactory">Logs which secrets were read, never their values.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public static async Task<ResolvedTlsMaterial?> ResolveTlsAsync(
        EtcdBackupOptions options,
        Func<Uri, global::Azure.Security.KeyVault.Secrets.SecretClient> clientForVault,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!KeyVaultTlsResolver.IsNeeded(options))
        {
            return null;
        }

        var resolver = new KeyVaultTlsResolver(clientForVault, loggerFactory?.CreateLogger<KeyVaultTlsResolver>());
        return await resolver.ResolveAsync(options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The in-process engine (CLI, <c>serve</c>): <see cref="InProcessDurableTaskClient"/> as the
    /// <see cref="DurableTaskClient"/>, the gateway over it and, when <paramref name="apiKey"/> is given, the HTTP API.
    /// </summary>
    public static IServiceCollection AddInProcessWorkflows(this IServiceCollection services, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<DurableTaskClient>(sp => new InProcessDurableTaskClient(
            sp, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), DataConverter,
            sp.GetService<EtcdBackupOptions>()?.Api is { } api ? new InProcessRetention(api.KeepFinishedRuns, TimeSpan.FromMinutes(api.KeepFinishedRunsMinutes)) : null));
        services.AddSingleton(sp => new WorkflowGateway(sp.GetRequiredService<DurableTaskClient>(), sp.GetRequiredService<TimeProvider>()));
        if (!string.IsNullOrEmpty(apiKey))
        {
            services.AddSingleton(new ApiKey(apiKey));
            services.AddSingleton<BackupApi>();
        }

        return services;
    }
}
