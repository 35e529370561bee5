using System.Text.Json;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class BackupNameTests
{
    [Fact]
    public async Task RunWithName_ListShowsIt_DescribeVerifyDeleteTakeIt()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        await cluster.EtcdCtlAsync("put", "/named/a", "1");
        var named = await Cli.RunAsync("backup", "run", "--config", config, "--name", "pre-upgrade");
        Assert.True(named.ExitCode == 0, named.Err);
        await cluster.EtcdCtlAsync("put", "/named/b", "2");
        var later = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
        Assert.True(later.ExitCode == 0, later.Err);

        var list = await Cli.RunAsync("backup", "list", "--config", config);
        var describe = await Cli.RunAsync("backup", "describe", "pre-upgrade", "--config", config, "-o", "json");
        var verify = await Cli.RunAsync("backup", "verify", "pre-upgrade", "--config", config);
        var delete = await Cli.RunAsync("backup", "delete", "pre-upgrade", "--config", config);

        Assert.Contains("name:            pre-upgrade", named.Out, StringComparison.Ordinal);
        var row = Assert.Single(list.Out.Split('\n'), l => l.Contains("pre-upgrade", StringComparison.Ordinal));
        using var described = JsonDocument.Parse(describe.Out);
        var id = described.RootElement.GetProperty("backupId").GetString()!;
        Assert.Contains(id, row, StringComparison.Ordinal);
        Assert.DoesNotContain(id, later.Out, StringComparison.Ordinal);
        Assert.True(verify.ExitCode == 0, verify.Err);
        Assert.True(delete.ExitCode == 0, delete.Err);
        Assert.Contains($"deleted {id}", delete.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("pre-upgrade", (await Cli.RunAsync("backup", "list", "--config", config)).Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-bad")]
    [InlineData("a b")]
    [InlineData("x/../y")]
    public async Task Run_InvalidName_RefusedBeforeAnyBackup(string name)
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:2379"] });

        var run = await Cli.RunAsync("backup", "run", "--config", config, "--name", name);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--name:", run.Err, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(env.StoreDir, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Describe_UnknownName_OneLineError()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:2379"] });

        var describe = await Cli.RunAsync("backup", "describe", "nothing-here", "--config", config);

        Assert.NotEqual(0, describe.ExitCode);
        Assert.Contains("no backup is named 'nothing-here'", describe.Err, StringComparison.Ordinal);
    }
}
