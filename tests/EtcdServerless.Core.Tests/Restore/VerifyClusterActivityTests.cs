using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Restore;

public sealed class VerifyClusterActivityTests
{
    [Fact]
    public async Task RunAsync_EmptyUsernameSetting_ConnectsWithoutAuthLikeTheBackup()
    {
        // An empty Auth:Username (an environment override set to nothing) means "no auth" for the backup's
        // clients; verification used to build its own clients and treat it as a user without a password.
        await using var etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var dir = new TempDirectory("verify");
        var options = new EtcdBackupOptions();
        options.Clusters["c"] = new ClusterOptions { Endpoints = [.. etcd.ClientUrls], Auth = new EtcdAuthOptions { Username = "" } };
        using var agents = new AgentClient(new AgentClientOptions());
        var services = new RestoreServices(new LocalDirectoryBackupStore(dir.Combine("store"), TimeSpan.Zero), new LocalKeyStore(dir.Combine("keys")), options, agents)
        {
            VerifyTimeout = TimeSpan.FromSeconds(20),
        };
        var member = etcd.Members[0];
        var target = new RestoreTargetMember { Name = member.Name, PeerUrl = member.PeerUrl, ClientUrl = member.ClientUrl, AgentUrl = "https://127.0.0.1:1" };

        var result = await new VerifyClusterActivity(services).RunAsync(new VerifyInput("c", [target], ExpectedRevision: 1, ExpectedKeyCount: 0));

        Assert.True(result.Succeeded, string.Join("; ", result.Problems));
        Assert.Equal(1, result.MembersUp);
    }
}
