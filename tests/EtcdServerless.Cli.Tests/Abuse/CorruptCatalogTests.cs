using System.Text.Json;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>
/// Defends: one damaged catalog entry (garbage, a truncated file, a manifest copied under another id) is reported
/// by name and skipped; it never blocks a new backup, list or prune, and never leaves an orphan artifact.
/// </summary>
[Trait("Category", "Abuse")]
public sealed class CorruptCatalogTests
{
    public static TheoryData<string> Damage => new() { "garbage", "truncated", "other-id", "null-section" };

    [Theory]
    [MemberData(nameof(Damage))]
    public async Task BackupRunListPrune_OneDamagedManifest_ReportedByNameAndSkipped(string damage)
    {
        // Arrange: one good backup, then its manifest damaged.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "1");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var first = await RunBackupAsync(config);
        await cluster.EtcdCtlAsync("put", "/registry/b", "2");
        var store = new LocalDirectoryBackupStore(env.StoreDir);
        var manifestPath = Path.Combine(env.StoreDir, BackupNaming.ManifestName("lab", first));
        var original = await File.ReadAllTextAsync(manifestPath);
        File.SetAttributes(manifestPath, FileAttributes.Normal);
        await File.WriteAllTextAsync(manifestPath, damage switch
        {
            "garbage" => "{ this is not json",
            "truncated" => original[..(original.Length / 2)],
            "other-id" => original.Replace(first, "20200101T000000000Z-r000000000001", StringComparison.Ordinal),
            _ => original.Replace("\"snapshot\": {", "\"snapshot\": null, \"x\": {", StringComparison.Ordinal),
        });

        // Act
        var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
        var list = await Cli.RunAsync("backup", "list", "--config", config);
        var prune = await Cli.RunAsync("backup", "prune", "--config", config);

        // Assert: the new backup is committed with its manifest; every verb names the damaged entry and goes on.
        var manifestName = BackupNaming.ManifestName("lab", first);
        Assert.True(run.ExitCode == 0, run.Err);
        using (var result = JsonDocument.Parse(run.Out))
        {
            var warnings = result.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).ToList();
            Assert.Contains(warnings, w => w!.Contains(manifestName, StringComparison.Ordinal));
        }

        Assert.True(list.ExitCode == 0, list.Err);
        Assert.Contains(manifestName, list.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(first, list.Out, StringComparison.Ordinal);
        Assert.True(prune.ExitCode == 0, prune.Err);
        Assert.Contains(manifestName, prune.Err, StringComparison.Ordinal);
        var catalog = new BackupCatalog(store);
        Assert.Single(await catalog.ListAsync("lab"));
        Assert.Empty(await catalog.FindOrphansAsync("lab", TimeSpan.Zero));
        Assert.True(File.Exists(manifestPath), "a damaged entry is evidence: retention leaves it alone");
    }

    [Fact]
    public async Task Describe_DamagedManifest_NamesItInOneLine()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var id = await RunBackupAsync(config);
        var manifestPath = Path.Combine(env.StoreDir, BackupNaming.ManifestName("lab", id));
        File.SetAttributes(manifestPath, FileAttributes.Normal);
        await File.WriteAllTextAsync(manifestPath, "[]");

        var describe = await Cli.RunAsync("backup", "describe", id, "--config", config);

        Assert.Equal(1, describe.ExitCode);
        Assert.Contains(BackupNaming.ManifestName("lab", id), describe.Err, StringComparison.Ordinal);
        Assert.Single(describe.Err.Trim().Split('\n'));
    }

    private static async Task<string> RunBackupAsync(string config)
    {
        var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
        Assert.True(run.ExitCode == 0, run.Err);
        using var result = JsonDocument.Parse(run.Out);
        return result.RootElement.GetProperty("manifest").GetProperty("backupId").GetString()!;
    }
}
