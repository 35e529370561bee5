using System.Text.Json;
using EtcdServerless.Cli.Commands;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>What etcdctl users type: -w/--write-out, ETCDCTL_* variables, Go durations for --dial-timeout.</summary>
[Trait("Category", "Cli")]
public sealed class EtcdctlHabitsTests
{
    [Fact]
    public async Task SnapshotSave_EtcdctlVariablesOnly_MutualTls_SavesWithWriteOutJson()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1, Security = EtcdTestSecurity.MutualTls });
        await cluster.EtcdCtlAsync("put", "/habits/a", "b");
        using var dir = new TempDirectory("habits");
        var file = dir.Combine("snap.db");
        var env = new Dictionary<string, string>
        {
            ["ETCDCTL_ENDPOINTS"] = string.Join(',', cluster.ClientUrls),
            ["ETCDCTL_CACERT"] = cluster.CaCertPath!,
            ["ETCDCTL_CERT"] = cluster.ClientCertPath!,
            ["ETCDCTL_KEY"] = cluster.ClientKeyPath!,
        };

        var save = await CliProcess.RunAsync(env, "snapshot", "save", file, "--dial-timeout", "5s", "-w", "json");

        Assert.True(save.ExitCode == 0, save.Err);
        using var json = JsonDocument.Parse(save.Out);
        Assert.Equal(64, json.RootElement.GetProperty("sha256").GetString()!.Length);
        Assert.True(File.Exists(file));
        var status = await Cli.RunAsync("snapshot", "status", file, "--write-out", "json");
        Assert.True(status.ExitCode == 0, status.Err);
        Assert.True(JsonDocument.Parse(status.Out).RootElement.GetProperty("totalKey").GetInt64() >= 1);
    }

    [Fact]
    public async Task SnapshotSave_WithoutClientCertificateVariables_FailsAgainstMutualTls()
    {
        // The control for the test above: the same cluster refuses a client that has no certificate.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1, Security = EtcdTestSecurity.MutualTls });
        using var dir = new TempDirectory("habits");
        var env = new Dictionary<string, string>
        {
            ["ETCDCTL_ENDPOINTS"] = string.Join(',', cluster.ClientUrls),
            ["ETCDCTL_CACERT"] = cluster.CaCertPath!,
            ["ETCDCTL_DIAL_TIMEOUT"] = "2s",
        };

        var save = await CliProcess.RunAsync(env, "snapshot", "save", dir.Combine("snap.db"));

        Assert.Equal(1, save.ExitCode);
        Assert.False(File.Exists(dir.Combine("snap.db")));
    }

    [Fact]
    public async Task SnapshotSave_FlagGiven_WinsOverVariable()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var dir = new TempDirectory("habits");
        var env = new Dictionary<string, string> { ["ETCDCTL_ENDPOINTS"] = $"http://127.0.0.1:{FreePorts.Next()}" };

        var save = await CliProcess.RunAsync(env, "snapshot", "save", dir.Combine("snap.db"), "--endpoints", cluster.ClientUrls[0], "-o", "json");

        Assert.True(save.ExitCode == 0, save.Err);
        Assert.True(File.Exists(dir.Combine("snap.db")));
    }

    [Fact]
    public async Task SnapshotSave_NoEndpointsAnywhere_OneLineErrorNamingBoth()
    {
        var save = await CliProcess.RunAsync(new Dictionary<string, string>(), "snapshot", "save", "x.db");

        Assert.NotEqual(0, save.ExitCode);
        Assert.Contains("--endpoints is required (or set ETCDCTL_ENDPOINTS)", save.Err, StringComparison.Ordinal);
        Assert.Single(save.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("bogus", "--dial-timeout: 'bogus' is not a duration")]
    [InlineData("0s", "--dial-timeout: '0s' must be more than zero")]
    [InlineData("5", "--dial-timeout: '5' is not a duration")]
    public async Task SnapshotSave_BadDialTimeout_RefusedBeforeConnecting(string value, string expected)
    {
        var save = await Cli.RunAsync("snapshot", "save", "x.db", "--endpoints", "http://127.0.0.1:1", "--dial-timeout", value);

        Assert.NotEqual(0, save.ExitCode);
        Assert.Contains(expected, save.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("skipping", save.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("5s", 5_000)]
    [InlineData("500ms", 500)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("00:00:07", 7_000)]
    public void GoDuration_Valid_Parses(string value, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(value, out var parsed, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
    }

    [Fact]
    public async Task BackupList_WriteOutJson_PrintsJson()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:2379"] });

        var list = await Cli.RunAsync("backup", "list", "--config", config, "-w", "json");

        Assert.True(list.ExitCode == 0, list.Err);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(list.Out).RootElement.ValueKind);
    }
}
