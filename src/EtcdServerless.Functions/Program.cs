using Azure.Core.Serialization;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Functions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The isolated worker host: Core services from app settings (the same keys as the CLI's JSON config, with
// "__" for ":"), and Durable's payload serializer set to Core's, so inputs/outputs travel exactly as in-process.
var host = new HostBuilder()
    .ConfigureFunctionsWorkerDefaults()
    .ConfigureServices((context, services) =>
    {
        services.Configure<WorkerOptions>(o => o.Serializer = new JsonObjectSerializer(OrchestrationJson.Options));
        services.AddEtcdBackupFunctions(context.Configuration);
    })
    .Build();

await host.RunAsync().ConfigureAwait(false);
