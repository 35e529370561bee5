using System.Text.Json;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Etcd.Tests.Harness;

[Trait("Category", "Etcd")]
public sealed class EtcdTestClusterTests
{
    [Theory]
    [InlineData(1, EtcdTestSecurity.None, false)]
    [InlineData(3, EtcdTestSecurity.None, false)]
    [InlineData(1, EtcdTestSecurity.Tls, false)]
    [InlineData(1, EtcdTestSecurity.MutualTls, false)]
    [InlineData(1, EtcdTestSecurity.None, true)]
    public async Task StartAsync_Shape_AllMembersServeAndShareOneLeader(int members, EtcdTestSecurity security, bool auth)
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            Members = members,
            Security = security,
            EnableAuth = auth,
        });

        await cluster.EtcdCtlAsync("put", "harness", "ok");
        var value = await cluster.EtcdCtlAsync("get", "harness", "--print-value-only");
        Assert.Equal("ok", value.Trim());

        using var status = JsonDocument.Parse(await cluster.EtcdCtlAsync("endpoint", "status", "-w", "json"));
        var leaders = status.RootElement.EnumerateArray().Select(e => e.GetProperty("Status").GetProperty("leader").GetUInt64()).Distinct().ToList();
        Assert.Equal(members, status.RootElement.GetArrayLength());
        Assert.Single(leaders);
        Assert.All(cluster.Members, m => Assert.True(m.IsRunning));
        Assert.All(cluster.ClientUrls, u => Assert.StartsWith(security == EtcdTestSecurity.None ? "http://" : "https://", u, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_AuthEnabled_EtcdCtlWithoutUserIsRefused()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { EnableAuth = true });

        var result = await ToolProcess.RunAsync(
            cluster.EtcdCtlPath,
            ["--endpoints=" + cluster.ClientUrls[0], "put", "k", "v"],
            new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("user name is empty", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_MutualTls_ClientWithoutCertificateIsRefused()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.MutualTls });

        var result = await ToolProcess.RunAsync(
            cluster.EtcdCtlPath,
            ["--endpoints=" + cluster.ClientUrls[0], "--cacert=" + cluster.CaCertPath, "--dial-timeout=2s", "--command-timeout=3s", "put", "k", "v"],
            new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });

        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public async Task KillAndStartMember_ThreeMembers_MemberRejoinsWithItsData()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3 });
        await cluster.EtcdCtlAsync("put", "before", "1");
        var pid = cluster.Members[1].Pid;

        await cluster.KillMemberAsync(1);
        Assert.False(cluster.Members[1].IsRunning);
        Assert.Null(cluster.Members[1].Pid);
        await cluster.StopMemberAsync(2);
        Assert.False(cluster.Members[2].IsRunning);
        await cluster.StartMemberAsync(1);
        await cluster.StartMemberAsync(2);

        Assert.NotEqual(pid, cluster.Members[1].Pid);
        var value = await cluster.EtcdCtlOnMemberAsync(1, "get", "before", "--print-value-only", "--consistency=s");
        Assert.Equal("1", value.Trim());
    }

    [Fact]
    public async Task DisposeAsync_Always_KillsEveryProcess()
    {
        var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        var pid = cluster.Members[0].Pid!.Value;

        await cluster.DisposeAsync();

        Assert.False(ProcessAlive(pid));
        Assert.False(Directory.Exists(cluster.WorkDirectory));
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
