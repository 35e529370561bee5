using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
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
    public static IServiceCollection AddEtcdBackup(this IServiceCollection services, EtcdBackupOptions options, BackupPipelineOptions? pipeline = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILoggerFactory, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory>();
        services.AddSingleton(options);
        services.AddSingleton(pipeline ?? new BackupPipelineOptions());
        services.TryAddSingleton<IBackupStore>(sp => StoreFactory.CreateBackupStore(options.Store, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetService<global::Azure.Core.TokenCredential>()));
        services.TryAddSingleton<IKeyStore>(sp => StoreFactory.CreateKeyStore(options.Keys, options.Store, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), sp.GetService<global::Azure.Core.TokenCredential>()));
        services.AddSingleton(sp => new BackupCatalog(sp.GetRequiredService<IBackupStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new BackupEnvironment(
            options,
            sp.GetRequiredService<IBackupStore>(),
            sp.GetRequiredService<IKeyStore>(),
            pipeline: sp.GetRequiredService<BackupPipelineOptions>(),
            timeProvider: sp.GetRequiredService<TimeProvider>(),
            loggerFactory: sp.GetRequiredService<ILoggerFactory>()));

        if (RestoreRequests.AreConfigured(options))
        {
            var tls = options.Restore.AgentTls;
            services.AddSingleton(_ => new AgentClient(new AgentClientOptions
            {
                CertFile = tls.CertFile,
                KeyFile = tls.KeyFile,
                CaFile = tls.CaFile,
                ServerThumbprints = [.. tls.ServerThumbprints],
                TimeoutSeconds = tls.TimeoutSeconds,
            }));
            services.TryAddSingleton(sp => new RestoreServices(
                sp.GetRequiredService<IBackupStore>(),
                sp.GetRequiredService<IKeyStore>(),
                options,
                sp.GetRequiredService<AgentClient>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>()));
        }

        return services.AddWorkflowSteps();
    }

    /// <summary>
    /// The in-process engine (CLI, <c>serve</c>): <see cref="InProcessDurableTaskClient"/> as the
    /// <see cref="DurableTaskClient"/>, the gateway over it and, when <paramref name="apiKey"/> is given, the HTTP API.
    /// </summary>
    public static IServiceCollection AddInProcessWorkflows(this IServiceCollection services, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<DurableTaskClient>(sp => new InProcessDurableTaskClient(
            sp, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILoggerFactory>(), DataConverter));
        services.AddSingleton(sp => new WorkflowGateway(sp.GetRequiredService<DurableTaskClient>(), sp.GetRequiredService<TimeProvider>()));
        if (!string.IsNullOrEmpty(apiKey))
        {
            services.AddSingleton(new ApiKey(apiKey));
            services.AddSingleton<BackupApi>();
        }

        return services;
    }
}
