using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Restore;

public sealed class StopOrderActivityTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("stop-order");
    private readonly AgentClient _agents = new(new AgentClientOptions());
    private EtcdTestCluster _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });

    [Fact]
    public async Task RunAsync_ThreeRunningMembers_TheLeaderStopsLast()
    {
        var leader = await LeaderAsync();

        var order = await Activity().RunAsync(new StopOrderInput("c", Targets()));

        Assert.Equal([leader], order.StopLast);
    }

    [Fact]
    public async Task RunAsync_OneMemberUnreachable_AllStopTogether()
    {
        var targets = Targets().ToList();
        targets[1] = targets[1] with { ClientUrl = $"http://127.0.0.1:{FreePorts.Next()}" };

        var order = await Activity().RunAsync(new StopOrderInput("c", targets));

        Assert.Empty(order.StopLast);
        Assert.Contains(targets[1].Name, order.Note, StringComparison.Ordinal);
    }

    private StopOrderActivity Activity()
    {
        var options = new EtcdBackupOptions();
        options.Clusters["c"] = new ClusterOptions { Endpoints = [.. _etcd.ClientUrls] };
        return new StopOrderActivity(new RestoreServices(new LocalDirectoryBackupStore(_dir.Combine("store"), TimeSpan.Zero), new LocalKeyStore(_dir.Combine("keys")), options, _agents));
    }

    private IReadOnlyList<RestoreTargetMember> Targets() =>
        [.. _etcd.Members.Select(m => new RestoreTargetMember { Name = m.Name, PeerUrl = m.PeerUrl, ClientUrl = m.ClientUrl, AgentUrl = "https://127.0.0.1:1" })];

    private async Task<string> LeaderAsync()
    {
        foreach (var member in _etcd.Members)
        {
            await using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(member.ClientUrl) });
            if ((await client.StatusAsync()).IsLeader)
            {
                return member.Name;
            }
        }

        throw new InvalidOperationException("no leader");
    }

    public async Task DisposeAsync()
    {
        await _etcd.DisposeAsync();
        _agents.Dispose();
        _dir.Dispose();
    }
}
