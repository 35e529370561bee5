using System.Text.Json;
using EtcdServerless.Testing.Azurite;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary><c>etcd-backup store init</c> against a real Azurite and a local folder, and <c>backup run</c> before it.</summary>
[Trait("Category", "Cli")]
public sealed class StoreCommandsTests
{
    [Fact]
    public async Task StoreInit_FreshAzuriteContainer_CreatesItThenReportsItExists()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        using var env = new CliTestEnvironment();
        var container = "fresh-" + Guid.NewGuid().ToString("N")[..16];
        var config = WriteConfig(env, $"{azurite.BlobEndpoint}/{container}", accountKey: AzuriteProcess.AccountKey);

        var first = await Cli.RunAsync("store", "init", "--config", config, "-o", "json");
        var second = await Cli.RunAsync("store", "init", "--config", config);

        Assert.True(first.ExitCode == 0, first.Err);
        using var json = JsonDocument.Parse(first.Out);
        Assert.True(json.RootElement.GetProperty("created").GetBoolean());
        Assert.False(json.RootElement.GetProperty("protected").GetBoolean());
        Assert.Equal("none", json.RootElement.GetProperty("immutability").GetString());
        Assert.Contains("no immutability policy", json.RootElement.GetProperty("warnings")[0].GetString(), StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.Contains("created:       no (it already existed)", second.Out, StringComparison.Ordinal);
        Assert.Contains("warning:       no immutability policy", second.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreInit_SasThatMayNotCreate_ExistingContainerSucceeds_MissingFailsInOneLine()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        using var env = new CliTestEnvironment();
        await azurite.CreateContainerAsync("existing");
        var readList = AzuriteProcess.CreateAccountSas("rl", DateTimeOffset.UtcNow.AddHours(1));

        var existing = await Cli.RunAsync("store", "init", "--config", WriteConfig(env, $"{azurite.BlobEndpoint}/existing", sas: readList), "-o", "json");
        var missing = await Cli.RunAsync("store", "init", "--config", WriteConfig(env, $"{azurite.BlobEndpoint}/missing", sas: readList));

        Assert.True(existing.ExitCode == 0, existing.Err);
        Assert.False(JsonDocument.Parse(existing.Out).RootElement.GetProperty("created").GetBoolean());
        Assert.Equal(1, missing.ExitCode);
        var error = Assert.Single(missing.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: the container does not exist", error, StringComparison.Ordinal);
        Assert.Contains("may not create it", error, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoreInit_LocalFolderMissing_CreatesItAndReportsRetention()
    {
        using var env = new CliTestEnvironment();
        var folder = env.Combine("new", "store");
        var config = WriteConfig(env, new Uri(folder).AbsoluteUri, immutabilityDays: 3);

        var first = await Cli.RunAsync("store", "init", "--config", config);
        var second = await Cli.RunAsync("store", "init", "--config", config, "-o", "json");

        Assert.True(first.ExitCode == 0, first.Err);
        Assert.True(Directory.Exists(folder));
        Assert.Contains("created:       yes", first.Out, StringComparison.Ordinal);
        Assert.Contains("immutability:  default retention 3 days enforced by this store", first.Out, StringComparison.Ordinal);
        Assert.Contains("not WORM", first.Out, StringComparison.Ordinal);
        Assert.True(second.ExitCode == 0, second.Err);
        Assert.False(JsonDocument.Parse(second.Out).RootElement.GetProperty("created").GetBoolean());
    }

    [Fact]
    public async Task StoreInit_BadOutputFormat_IsAUsageError()
    {
        using var env = new CliTestEnvironment();

        var result = await Cli.RunAsync("store", "init", "--config", WriteConfig(env, new Uri(env.StoreDir).AbsoluteUri), "-o", "yaml");

        Assert.NotEqual(0, result.ExitCode);
        Assert.NotEmpty(result.Err);
    }

    [Fact]
    public async Task BackupRun_MissingContainer_FailsWithOneLineNamingStoreInit()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "b");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = WriteConfig(env, $"{azurite.BlobEndpoint}/never-created", accountKey: AzuriteProcess.AccountKey, endpoints: cluster.ClientUrls);

        var run = await Cli.RunAsync("backup", "run", "--config", config);
        var init = await Cli.RunAsync("store", "init", "--config", config);
        var rerun = await Cli.RunAsync("backup", "run", "--config", config);

        Assert.Equal(1, run.ExitCode);
        var error = Assert.Single(run.Err.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("container does not exist", error, StringComparison.Ordinal);
        Assert.Contains("`etcd-backup store init`", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Err, StringComparison.Ordinal);
        Assert.True(init.ExitCode == 0, init.Err);
        Assert.True(rerun.ExitCode == 0, rerun.Err);
    }

    [Fact]
    public async Task BackupList_MissingContainer_OneLineWithoutTheServiceResponseDump()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        using var env = new CliTestEnvironment();
        var config = WriteConfig(env, $"{azurite.BlobEndpoint}/never-created", accountKey: AzuriteProcess.AccountKey);

        var list = await Cli.RunAsync("backup", "list", "--config", config);

        Assert.Equal(1, list.ExitCode);
        var error = Assert.Single(list.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("`etcd-backup store init`", error, StringComparison.Ordinal);
        Assert.Contains("ContainerNotFound", error, StringComparison.Ordinal);
        // The SDK's exception carries the whole response (headers, XML body); one line means none of it.
        Assert.DoesNotContain("Headers:", error, StringComparison.Ordinal);
        Assert.DoesNotContain("<?xml", error, StringComparison.Ordinal);
    }

    private static string WriteConfig(CliTestEnvironment env, string storeUri, string? accountKey = null, string? sas = null,
        int immutabilityDays = 0, IReadOnlyList<string>? endpoints = null)
    {
        var config = new Dictionary<string, object?>
        {
            ["Store"] = new { Uri = storeUri, ImmutabilityDays = immutabilityDays, AccountKey = accountKey, SasToken = sas },
            ["Keys"] = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            ["Clusters"] = new Dictionary<string, object> { ["lab"] = new { Endpoints = endpoints ?? ["http://127.0.0.1:2379"] } },
        };
        var path = env.Combine($"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }
}
