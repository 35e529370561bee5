using EtcdServerless.Core.Orchestration;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Hosting;
using EtcdServerless.Workflows.Instances;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace EtcdServerless.Testing.Workflows;

/// <summary>
/// The real Durable Task engine (Microsoft.DurableTask.InProcessTestHost: the in-memory backend behind a gRPC
/// sidecar on loopback) with every orchestrator and activity of the product registered, the product's data
/// converter, and the product's <see cref="WorkflowGateway"/> over the engine's client.
/// </summary>
internal sealed class WorkflowTestHost : IAsyncDisposable
{
    private WorkflowTestHost(DurableTaskTestHost host)
    {
        Host = host;
        Gateway = new WorkflowGateway(host.Client, TimeProvider.System);
    }

    public DurableTaskTestHost Host { get; }

    public DurableTaskClient Client => Host.Client;

    public WorkflowGateway Gateway { get; }

    /// <summary>Starts the engine; <paramref name="configureServices"/> registers what the activities need (e.g. <c>AddEtcdBackup</c>).</summary>
    public static async Task<WorkflowTestHost> StartAsync(Action<IServiceCollection> configureServices)
    {
        ArgumentNullException.ThrowIfNull(configureServices);
        var host = await DurableTaskTestHost.StartAsync(
            registry => registry.AddEtcdBackupWorkflows(),
            new DurableTaskTestHostOptions
            {
                // The host's own pick is random in 30000-40000 and can collide with the etcd members tests start.
                Port = FreePorts.Next(),
                ConfigureServices = services =>
                {
                    configureServices(services);
                    services.Configure<DurableTaskWorkerOptions>(o => o.DataConverter = EtcdBackupServices.DataConverter);
                },
            });
        return new WorkflowTestHost(host);
    }

    /// <summary>Waits for <paramref name="instanceId"/> to complete and returns its state and output (read with the product's JSON).</summary>
    public async Task<(OrchestrationMetadata State, T Output)> CompleteAsync<T>(string instanceId, TimeSpan? timeout = null)
    {
        var state = await Gateway.WaitForCompletionAsync(instanceId).WaitAsync(timeout ?? TimeSpan.FromMinutes(3));
        Assert.True(state.RuntimeStatus == OrchestrationRuntimeStatus.Completed,
            $"orchestration {instanceId} {state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage} {state.FailureDetails?.InnerFailure?.ErrorMessage}");
        return (state, OrchestrationJson.Deserialize<T>(state.SerializedOutput)!);
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
