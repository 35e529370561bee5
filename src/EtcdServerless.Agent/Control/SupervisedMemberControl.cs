using EtcdServerless.Core.Members;

namespace EtcdServerless.Agent.Control;

/// <summary>The agent runs etcd itself as a child process.</summary>
/// <remarks>Disposed by the host's container: the child etcd never outlives the agent.</remarks>
internal sealed class SupervisedMemberControl(EtcdProcess process) : IMemberControl, IAsyncDisposable
{
    public string Mode => "supervised";

    public EtcdProcess Process { get; } = process;

    public Task<bool> IsRunningAsync(CancellationToken cancellationToken = default) => Task.FromResult(Process.IsRunning);

    public Task StopAsync(CancellationToken cancellationToken = default) => Process.StopAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken = default) => Process.StartAsync(cancellationToken);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
