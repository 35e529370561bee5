using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Etcd.Tests.Client;

[Trait("Category", "Etcd")]
public sealed class EtcdClientAuthTests
{
    [Fact]
    public async Task Calls_RootCredentials_AuthenticateLazilyAndWork()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { EnableAuth = true });
        await using var client = cluster.CreateClient();

        await client.PutAsync("auth", "ok");

        Assert.Equal("ok", (await client.GetAsync("auth"))!.ValueString);
        Assert.False(string.IsNullOrEmpty(await client.AuthenticateAsync()));
    }

    [Fact]
    public async Task Calls_WrongPassword_ThrowsAuthenticationExceptionNamingTheUser()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { EnableAuth = true });
        await using var client = new EtcdClient(cluster.ClientOptions() with { Password = "wrong" });

        var ex = await Assert.ThrowsAsync<EtcdAuthenticationException>(() => client.GetAsync("x"));

        Assert.Contains("'root'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("authentication failed", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_NoCredentialsWhileAuthEnabled_ThrowsInvalidArgument()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { EnableAuth = true });
        await using var client = new EtcdClient(cluster.ClientOptions() with { Username = null, Password = null });

        var ex = await Assert.ThrowsAsync<EtcdInvalidArgumentException>(() => client.GetAsync("x"));

        Assert.Contains("user name is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_TokenExpired_ReauthenticatesOnceAndSucceeds()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            EnableAuth = true,
            ExtraArguments = ["--auth-token-ttl=1"],
        });
        var logger = new RecordingLogger();
        await using var client = new EtcdClient(cluster.ClientOptions(), logger);
        var first = await client.AuthenticateAsync();
        await client.PutAsync("a", "1");

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await client.PutAsync("a", "2");

        Assert.Equal("2", (await client.GetAsync("a"))!.ValueString);
        Assert.Contains(logger.Entries, e => e.Id.Id == 1001);
        Assert.NotEqual(first, await client.AuthenticateAsync());
    }

    [Fact]
    public async Task SnapshotAsync_TokenExpired_ReauthenticatesOnceAndStreams()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            EnableAuth = true,
            ExtraArguments = ["--auth-token-ttl=1"],
        });
        var logger = new RecordingLogger();
        await using var client = new EtcdClient(cluster.ClientOptions(), logger);
        await client.PutAsync("a", "1");

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        long bytes = 0;
        await foreach (var chunk in client.SnapshotAsync())
        {
            bytes += chunk.Blob.Length;
        }

        Assert.True(bytes > 32);
        Assert.Equal(0, (bytes - 32) % 512);
        Assert.Contains(logger.Entries, e => e.Id.Id == 1001);
    }

    [Fact]
    public async Task SnapshotAsync_UserWithoutRootRole_ThrowsPermissionDenied()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { EnableAuth = true });
        await cluster.EtcdCtlAsync("user", "add", "reader", "--new-user-password=reader-pw");
        await using var client = new EtcdClient(cluster.ClientOptions() with { Username = "reader", Password = "reader-pw" });

        await Assert.ThrowsAsync<EtcdPermissionDeniedException>(async () =>
        {
            await foreach (var _ in client.SnapshotAsync())
            {
            }
        });
    }

    [Fact]
    public async Task Calls_CredentialsButAuthDisabled_ProceedWithoutToken()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = new EtcdClient(cluster.ClientOptions() with { Username = "root", Password = "x" });

        await client.PutAsync("k", "v");

        Assert.Equal("v", (await client.GetAsync("k"))!.ValueString);
    }
}
