using System.Text.Json;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>One backup-reference parser: every verb that takes an id takes <c>latest</c>, and errors show a valid example.</summary>
[Trait("Category", "Cli")]
public sealed class BackupReferenceTests
{
    [Fact]
    public async Task VerifyAndDescribe_Latest_ResolveTheNewestBackup()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "1");
        using var env = new CliTestEnvironment();
        var (config, id) = await env.BackupOnceAsync(cluster.ClientUrls);

        var verify = await Cli.RunAsync("backup", "verify", "latest", "--config", config);
        var describe = await Cli.RunAsync("backup", "describe", "LATEST", "--config", config, "--cluster", "lab");

        Assert.True(verify.ExitCode == 0, verify.Err);
        Assert.Contains("all checks passed", verify.Out, StringComparison.Ordinal);
        Assert.Contains($"verifying lab/{id}", verify.Err, StringComparison.Ordinal);
        Assert.True(describe.ExitCode == 0, describe.Err);
        Assert.Contains(id, describe.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_InvalidId_ErrorShowsAnExampleThatParses()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:1"] });

        var verify = await Cli.RunAsync("backup", "verify", "20261121T101500Z-000000000042", "--config", config);

        Assert.Equal(2, verify.ExitCode);
        Assert.Contains("or 'latest'", verify.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", verify.Err, StringComparison.Ordinal);
        var example = System.Text.RegularExpressions.Regex.Match(verify.Err, "such as (\\S+),").Groups[1].Value;
        Assert.True(BackupNaming.TryParseBackupId(example, out _, out _), $"the example '{example}' in the error is not a valid id");
    }

    [Fact]
    public async Task Verify_LatestWithSeveralClustersAndNoCluster_AsksForCluster()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["a"] = ["http://127.0.0.1:1"], ["b"] = ["http://127.0.0.1:2"] });

        var verify = await Cli.RunAsync("backup", "verify", "latest", "--config", config);

        Assert.Equal(2, verify.ExitCode);
        Assert.Contains("needs --cluster", verify.Err, StringComparison.Ordinal);
    }
}
