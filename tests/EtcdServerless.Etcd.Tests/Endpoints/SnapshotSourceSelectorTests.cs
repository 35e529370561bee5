using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Etcd.Tests.Endpoints;

[Trait("Category", "Etcd")]
public sealed class SnapshotSourceSelectorTests
{
    [Fact]
    public async Task SelectAsync_ThreeHealthyMembers_RanksFollowersBeforeLeader()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        var selector = new SnapshotSourceSelector(cluster.ClientOptions());

        var plan = await selector.SelectAsync(cluster.ClientUris);

        Assert.Equal(3, plan.Ranked.Count);
        Assert.Empty(plan.Rejected);
        Assert.False(plan.Ranked[0].IsLeader);
        Assert.False(plan.Ranked[1].IsLeader);
        Assert.True(plan.Ranked[2].IsLeader);
        Assert.Equal(plan.LeaderId, plan.Ranked[2].MemberId);
        Assert.NotEqual(0ul, plan.ClusterId);
        Assert.Contains("follower", plan.Ranked[0].Reason, StringComparison.Ordinal);
        Assert.Equal(cluster.Members.Select(m => m.Name).Order(), plan.Ranked.Select(c => c.Name).Order());
    }

    [Fact]
    public async Task SelectAsync_PreferLeader_RanksLeaderFirst()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        var selector = new SnapshotSourceSelector(cluster.ClientOptions(), new SnapshotSourceSelectorOptions { PreferLeader = true });

        var plan = await selector.SelectAsync(cluster.ClientUris);

        Assert.True(plan.Ranked[0].IsLeader);
    }

    [Fact]
    public async Task SelectAsync_OneEndpointConfigured_DiscoversOtherMembers()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        var selector = new SnapshotSourceSelector(cluster.ClientOptions());

        var plan = await selector.SelectAsync([cluster.ClientUris[0]]);

        Assert.Equal(3, plan.Ranked.Count);
        Assert.Equal(cluster.ClientUris.Select(u => u.Authority).Order(), plan.Ranked.Select(c => c.Endpoint.Authority).Order());
    }

    [Fact]
    public async Task SelectAsync_KilledFollower_IsRejectedAsUnreachableAndNotRanked()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        var selector = new SnapshotSourceSelector(cluster.ClientOptions());
        var before = await selector.SelectAsync(cluster.ClientUris);
        var victim = cluster.Members.Single(m => m.Name == before.Ranked[0].Name);

        await cluster.KillMemberAsync(victim.Index);
        var plan = await selector.SelectAsync(cluster.ClientUris);

        Assert.Equal(2, plan.Ranked.Count);
        Assert.DoesNotContain(plan.Ranked, c => c.Name == victim.Name);
        var rejection = Assert.Single(plan.Rejected);
        Assert.Equal(victim.Name, rejection.Name);
        Assert.StartsWith("unreachable", rejection.Reason, StringComparison.Ordinal);
        Assert.False(plan.Ranked[0].IsLeader);
    }

    [Fact]
    public async Task SelectAsync_NothingReachable_ReturnsEmptyPlanWithReasons()
    {
        var selector = new SnapshotSourceSelector(new Etcd.Client.EtcdClientOptions { Endpoint = new Uri("http://127.0.0.1:1") });
        var endpoints = new[] { new Uri($"http://127.0.0.1:{FreePorts.Next()}"), new Uri($"http://127.0.0.1:{FreePorts.Next()}") };

        var plan = await selector.SelectAsync(endpoints);

        Assert.Empty(plan.Ranked);
        Assert.Equal(2, plan.Rejected.Count);
        Assert.All(plan.Rejected, r => Assert.NotNull(r.Error));
        Assert.Contains("unreachable", plan.DescribeRejections(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SelectAsync_NoEndpoints_ThrowsArgumentException()
    {
        var selector = new SnapshotSourceSelector(new Etcd.Client.EtcdClientOptions { Endpoint = new Uri("http://127.0.0.1:1") });

        await Assert.ThrowsAsync<ArgumentException>(() => selector.SelectAsync([]));
    }

    [Fact]
    public async Task SelectAsync_MemberWithoutLeader_IsRejected()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        var selector = new SnapshotSourceSelector(cluster.ClientOptions());
        await cluster.KillMemberAsync(1);
        await cluster.KillMemberAsync(2);

        // The survivor loses its leader once the election timeout (1 s) passes without a quorum.
        Etcd.Endpoints.SnapshotSourcePlan plan;
        var tries = 0;
        do
        {
            await Task.Delay(500);
            plan = await selector.SelectAsync([cluster.ClientUris[0]]);
        }
        while (plan.Ranked.Count > 0 && ++tries < 40);

        Assert.Empty(plan.Ranked);
        Assert.Contains(plan.Rejected, r => r.Name == "m0" && r.Reason == "has no leader");
    }
}
