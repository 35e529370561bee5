using System.Text.Json;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class BackupCommandsTests
{
    [Fact]
    public async Task BackupRunListDescribeVerify_RealEtcd_RoundTrip()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        for (var i = 0; i < 20; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/registry/pods/default/p{i}", $"v{i}");
        }

        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });

        // Act: run
        var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");

        // Assert
        Assert.True(run.ExitCode == 0, run.Err);
        using var result = JsonDocument.Parse(run.Out);
        Assert.True(result.RootElement.GetProperty("succeeded").GetBoolean());
        var manifest = result.RootElement.GetProperty("manifest");
        var backupId = manifest.GetProperty("backupId").GetString()!;
        Assert.Equal(20, manifest.GetProperty("snapshot").GetProperty("totalKey").GetInt64() >= 20 ? 20 : -1);

        // list
        var list = await Cli.RunAsync("backup", "list", "--config", config);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(backupId, list.Out, StringComparison.Ordinal);
        Assert.StartsWith("CLUSTER", list.Out, StringComparison.Ordinal);

        // describe
        var describe = await Cli.RunAsync("backup", "describe", backupId, "--config", config);
        Assert.Equal(0, describe.ExitCode);
        Assert.Contains($"backup id:       {backupId}", describe.Out, StringComparison.Ordinal);

        // verify
        var verify = await Cli.RunAsync("backup", "verify", backupId, "--config", config);
        Assert.True(verify.ExitCode == 0, verify.Err + verify.Out);
        Assert.Contains("all checks passed", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupVerify_TamperedArtifact_ExitsNonZero()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "b");
        using var env = new CliTestEnvironment();
        var (config, backupId) = await env.BackupOnceAsync(cluster.ClientUrls);
        var artifact = Directory.GetFiles(env.StoreDir, "*.snap.enc", SearchOption.AllDirectories).Single();

        // Act: flip one byte in the middle of the ciphertext (immutability 0 days: the file is writable by us).
        File.SetAttributes(artifact, FileAttributes.Normal);
        var bytes = File.ReadAllBytes(artifact);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(artifact, bytes);
        var verify = await Cli.RunAsync("backup", "verify", backupId, "--config", config);

        // Assert
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("FAILED", verify.Out, StringComparison.Ordinal);
        Assert.Contains("failed verification", verify.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupRun_UnreachableCluster_ExitsOneWithReason()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var port = EtcdServerless.Testing.Infrastructure.FreePorts.Next();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["down"] = [$"http://127.0.0.1:{port}"] });

        var run = await Cli.RunAsync("backup", "run", "--config", config);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: backup of 'down' failed", run.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupPrune_DryRun_ListsDecisionsAndDeletesNothing()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        for (var i = 0; i < 2; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/k{i}", "v");
            var run = await Cli.RunAsync("backup", "run", "--config", config);
            Assert.True(run.ExitCode == 0, run.Err);
        }

        var before = Directory.GetFiles(env.StoreDir, "*.manifest.json", SearchOption.AllDirectories).Length;
        var prune = await Cli.RunAsync("backup", "prune", "--dry-run", "--config", config);

        Assert.True(prune.ExitCode == 0, prune.Err);
        Assert.Contains("dry run:", prune.Out, StringComparison.Ordinal);
        Assert.Contains("keep", prune.Out, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFiles(env.StoreDir, "*.manifest.json", SearchOption.AllDirectories).Length);
    }
}
