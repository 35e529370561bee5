using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Functions;

/// <summary>The Function App's services: the one composition (<see cref="EtcdBackupServices"/>) from app settings.</summary>
internal static class FunctionsComposition
{
    /// <summary>App setting naming the user-assigned managed identity (empty = DefaultAzureCredential).</summary>
    public const string ManagedIdentityClientIdSetting = "AZURE_CLIENT_ID";

    /// <summary>Registers options, clock, stores, keys, catalog, the activities' steps, the API key and the payload serializer.</summary>
    public static IServiceCollection AddEtcdBackupFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        // Configuration errors surface at start, naming the key, as the CLI reports them.
        var options = EtcdBackupConfiguration.Load(configuration, AppContext.BaseDirectory, "app settings");
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(EtcdServerless.Azure.AzureCredentials.Create(configuration[ManagedIdentityClientIdSetting]));
        services.AddEtcdBackup(options, new BackupPipelineOptions { ConsistencyCheck = configuration.GetValue("Backup:ConsistencyCheck", false) });
        services.AddSingleton(ApiKey.FromSetting(options.Api.ApiKey, "Function App: app setting Api__ApiKey, from Key Vault"));

        // Durable payloads travel as the product's JSON (camelCase, enums as strings), exactly as in process.
        services.Configure<WorkerOptions>(o => o.Serializer = new global::Azure.Core.Serialization.JsonObjectSerializer(OrchestrationJson.Options));
        return services;
    }
}
