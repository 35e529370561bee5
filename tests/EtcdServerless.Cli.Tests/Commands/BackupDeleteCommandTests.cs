using System.Text.Json;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class BackupDeleteCommandTests
{
    private static async Task<List<string>> TwoBackupsAsync(EtcdTestCluster cluster, string config)
    {
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/delete/k{i}", "v");
            var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
            Assert.True(run.ExitCode == 0, run.Err);
            using var result = JsonDocument.Parse(run.Out);
            ids.Add(result.RootElement.GetProperty("manifest").GetProperty("backupId").GetString()!);
        }

        return ids;
    }

    private static async Task<string> ListAsync(string config) => (await Cli.RunAsync("backup", "list", "--config", config)).Out;

    [Fact]
    public async Task Delete_OlderBackupNotImmutable_DeletesIt_NewestVerifiedIsRefused()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var ids = await TwoBackupsAsync(cluster, config);

        var older = await Cli.RunAsync("backup", "delete", ids[0], "--config", config);
        var newest = await Cli.RunAsync("backup", "delete", ids[1], "--config", config);

        Assert.True(older.ExitCode == 0, older.Err);
        Assert.Contains($"deleted {ids[0]}", older.Out, StringComparison.Ordinal);
        Assert.Equal(1, newest.ExitCode);
        Assert.Contains($"error: refused to delete backup {ids[1]}: retention keeps it (newest verified backup)", newest.Err, StringComparison.Ordinal);
        var list = await ListAsync(config);
        Assert.DoesNotContain(ids[0], list, StringComparison.Ordinal);
        Assert.Contains(ids[1], list, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(env.StoreDir, ids[0] + "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Delete_StillImmutable_RefusesAndKeepsEverything()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var text = File.ReadAllText(config).Replace("\"ImmutabilityDays\":0", "\"ImmutabilityDays\":3", StringComparison.Ordinal);
        Assert.Contains("\"ImmutabilityDays\":3", text, StringComparison.Ordinal);
        File.WriteAllText(config, text);
        var ids = await TwoBackupsAsync(cluster, config);

        var delete = await Cli.RunAsync("backup", "delete", ids[0], "--config", config, "-o", "json");

        Assert.Equal(1, delete.ExitCode);
        Assert.Contains($"error: refused to delete backup {ids[0]}: it is immutable until", delete.Err, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(delete.Out);
        Assert.False(json.RootElement.GetProperty("deleted").GetBoolean());
        Assert.Contains(ids[0], await ListAsync(config), StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(env.StoreDir, ids[0] + "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Delete_UnknownOrMalformedId_OneLineError()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:2379"] });

        var unknown = await Cli.RunAsync("backup", "delete", "20261121T101500000Z-r000000000042", "--config", config);
        var malformed = await Cli.RunAsync("backup", "delete", "../etc", "--config", config);

        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("not found", unknown.Err, StringComparison.Ordinal);
        Assert.NotEqual(0, malformed.ExitCode);
        Assert.Contains("is not a backup reference", malformed.Err, StringComparison.Ordinal);
        Assert.Single(malformed.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
