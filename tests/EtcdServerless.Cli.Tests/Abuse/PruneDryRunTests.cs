using System.Text.Json;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>Defends: prune's dry run reports exactly what prune then does (same plan, same immutability check).</summary>
[Trait("Category", "Abuse")]
public sealed class PruneDryRunTests
{
    [Fact]
    public async Task Prune_DryRunThenRun_SameDecisionsForImmutableBackups()
    {
        // Arrange: two backups, keep only the last, both still immutable for a day.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.Combine("config.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(env.StoreDir).AbsoluteUri, ImmutabilityDays = 1 },
            Keys = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            Clusters = new Dictionary<string, object>
            {
                ["lab"] = new { Endpoints = cluster.ClientUrls, Retention = new { KeepLast = 1, Hourly = 0, Daily = 0, Weekly = 0, Monthly = 0 } },
            },
        }));
        for (var i = 0; i < 2; i++)
        {
            await cluster.EtcdCtlAsync("put", "/registry/k", $"{i}");
            var run = await Cli.RunAsync("backup", "run", "--config", config);
            Assert.True(run.ExitCode == 0, run.Err);
        }

        // Act
        var dry = await Cli.RunAsync("backup", "prune", "--config", config, "--dry-run");
        var real = await Cli.RunAsync("backup", "prune", "--config", config);

        // Assert: both say the older backup is skipped (immutable), neither says it is (or would be) deleted.
        Assert.Equal(0, dry.ExitCode);
        Assert.Equal(0, real.ExitCode);
        Assert.Contains("dry run: 0 backup(s) would be deleted, 1 still immutable", dry.Out, StringComparison.Ordinal);
        Assert.Contains("0 backup(s) deleted, 1 skipped (still immutable)", real.Out, StringComparison.Ordinal);
        Assert.Equal(Actions(dry.Out), Actions(real.Out));
    }

    private static List<string> Actions(string table) =>
        [.. table.Split('\n').Where(l => l.StartsWith("lab", StringComparison.Ordinal)).Select(l => l.Contains("skipped: immutable", StringComparison.Ordinal) ? "skipped" : l.Contains("keep", StringComparison.Ordinal) ? "keep" : "other")];
}
