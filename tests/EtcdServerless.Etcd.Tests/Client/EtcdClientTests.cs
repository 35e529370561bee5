using System.Text;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using Etcdserverpb;
using EtcdServerless.Testing.Etcd;
using Google.Protobuf;

namespace EtcdServerless.Etcd.Tests.Client;

[Trait("Category", "Etcd")]
public sealed class EtcdClientTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task StatusAndMemberList_Cluster_ReportsEveryMemberAndOneLeader(int members)
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = members });
        await using var client = cluster.CreateClient();

        var list = await client.MemberListAsync();
        var statuses = new List<EtcdStatus>();
        foreach (var m in cluster.Members)
        {
            await using var c = cluster.CreateClient(m.Index);
            statuses.Add(await c.StatusAsync());
        }

        Assert.Equal(members, list.Members.Count);
        Assert.Equal(cluster.Members.Select(m => m.Name).Order(), list.Members.Select(m => m.Name).Order());
        Assert.All(list.Members, m => Assert.Single(m.ClientUrls));
        Assert.Equal(cluster.ClientUrls.Order(), list.Members.Select(m => m.ClientUrls[0]).Order());
        Assert.Single(statuses.Select(s => s.Leader).Distinct());
        Assert.Equal(1, statuses.Count(s => s.IsLeader));
        Assert.All(statuses, s => Assert.StartsWith("3.", s.Version, StringComparison.Ordinal));
        Assert.All(statuses, s => Assert.True(s.DbSize > 0));
        Assert.All(statuses, s => Assert.True(s.RaftAppliedIndex > 0));
        Assert.Single(statuses.Select(s => s.Header.ClusterId).Distinct());
        Assert.Equal(members, statuses.Select(s => s.Header.MemberId).Distinct().Count());
        Assert.Empty(await client.AlarmListAsync());
    }

    [Fact]
    public async Task KvOperations_SingleMember_BehaveLikeEtcdctl()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();

        var put = await client.PutAsync("/app/a", "1");
        await client.PutAsync("/app/b", "2");
        await client.PutAsync("/other", "3");
        var second = await client.PutAsync("/app/a", "11");

        Assert.Null(put.PrevKv);
        Assert.Equal("1", second.PrevKv!.ValueString);
        Assert.Equal("11", (await client.GetAsync("/app/a"))!.ValueString);
        Assert.Null(await client.GetAsync("/missing"));
        var prefix = await client.GetPrefixAsync("/app/");
        Assert.Equal(["/app/a", "/app/b"], prefix.Kvs.Select(k => k.KeyString));
        Assert.Equal(2, await client.CountAsync("/app/"));
        Assert.Equal(3, await client.CountAsync());
        Assert.Equal("3", (await cluster.EtcdCtlAsync("get", "/other", "--print-value-only")).Trim());

        var deleted = await client.DeletePrefixAsync("/app/");
        Assert.Equal(2, deleted.Deleted);
        Assert.Equal(1, await client.CountAsync());
        Assert.Equal(0, (await client.DeleteAsync("/missing")).Deleted);
    }

    [Fact]
    public async Task RangeAsync_CountOnlyAndLimit_ReturnCountWithoutOrWithFewKeys()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        for (var i = 0; i < 10; i++)
        {
            await client.PutAsync($"k{i:D2}", new string('x', i));
        }

        var (key, end) = EtcdClient.PrefixRange(Encoding.UTF8.GetBytes("k"));
        var countOnly = await client.RangeAsync(key, end, countOnly: true);
        var limited = await client.RangeAsync(key, end, limit: 3);
        var keysOnly = await client.RangeAsync(key, end, keysOnly: true);

        Assert.Equal(10, countOnly.Count);
        Assert.Empty(countOnly.Kvs);
        Assert.Equal(3, limited.Kvs.Count);
        Assert.True(limited.More);
        Assert.Equal(10, limited.Count);
        Assert.All(keysOnly.Kvs, kv => Assert.Empty(kv.Value));
    }

    [Fact]
    public async Task TxnAsync_ModRevisionCompare_SucceedsOnlyWhenUnchanged()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();

        var created = await client.PutIfModRevisionAsync("lock", "a", 0);
        var again = await client.PutIfModRevisionAsync("lock", "b", 0);
        var current = await client.GetAsync("lock");
        var swapped = await client.PutIfModRevisionAsync("lock", "c", current!.ModRevision);

        Assert.True(created.Succeeded);
        Assert.False(again.Succeeded);
        Assert.True(swapped.Succeeded);
        Assert.Equal("c", (await client.GetAsync("lock"))!.ValueString);
    }

    [Fact]
    public async Task HashKVAsync_ThreeMembers_EqualAcrossMembersAndCompactionReported()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        await using var client = cluster.CreateClient();
        for (var i = 0; i < 20; i++)
        {
            await client.PutAsync($"h{i}", $"v{i}");
        }

        var revision = (await client.StatusAsync()).Header.Revision;
        await client.CompactAsync(revision - 5, physical: true);
        var hashes = new List<EtcdHashKV>();
        foreach (var m in cluster.Members)
        {
            await using var c = cluster.CreateClient(m.Index);
            hashes.Add(await c.HashKVAsync(revision));
        }

        Assert.Single(hashes.Select(h => h.Hash).Distinct());
        Assert.All(hashes, h => Assert.Equal(revision - 5, h.CompactRevision));
        Assert.NotEqual(0u, (await client.HashAsync()).Hash);
        await Assert.ThrowsAsync<EtcdException>(() => client.RangeAsync(Encoding.UTF8.GetBytes("h1"), revision: revision - 10));
    }

    [Fact]
    public async Task LeaseGrantAsync_KeyWithLease_IsAttached()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();

        var lease = await client.LeaseGrantAsync(60);
        await client.PutAsync("leased", "v", lease.Id);

        Assert.NotEqual(0, lease.Id);
        Assert.Equal(60, lease.Ttl);
        Assert.Equal(lease.Id, (await client.GetAsync("leased"))!.Lease);
    }

    [Fact]
    public async Task PutAsync_ValueOverRequestLimit_ThrowsInvalidArgument()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();

        var ex = await Assert.ThrowsAsync<EtcdInvalidArgumentException>(() => client.PutAsync(Encoding.UTF8.GetBytes("big"), new byte[2_000_000]));

        Assert.Contains("too large", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TxnAsync_RawRequestWithRangeOp_Succeeds()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        var request = new TxnRequest();
        request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("t"), Value = ByteString.CopyFromUtf8("1") } });

        var result = await client.TxnAsync(request);

        Assert.True(result.Succeeded);
        Assert.True(result.Header.Revision > 1);
    }
}
