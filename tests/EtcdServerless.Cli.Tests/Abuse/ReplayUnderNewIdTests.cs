using System.Text.Json;
using System.Text.Json.Nodes;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>
/// Defends: with write access to the store (but not the key), an older backup's artifact and figures copied under
/// a newer id never pass verification: the manifest's MAC and the artifact's bound identity both expose it,
/// including when the attacker strips the MAC to look like a pre-binding (format 1) backup.
/// </summary>
[Trait("Category", "Abuse")]
public sealed class ReplayUnderNewIdTests
{
    public static TheoryData<string> Forgeries => new() { "keep-mac", "strip-mac", "recompute-figures" };

    [Theory]
    [MemberData(nameof(Forgeries))]
    public async Task Verify_OldBackupCopiedUnderNewerId_Fails(string forgery)
    {
        // Arrange: an old and a newer genuine backup.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "1");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var (oldId, oldManifest) = await RunBackupAsync(config);
        for (var i = 0; i < 5; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/registry/n{i}", "x");
        }

        var (newId, _) = await RunBackupAsync(config);
        Assert.True(BackupNaming.TryParseBackupId(newId, out var newCreated, out var newRevision));

        // Act: the attacker plants the old artifact and manifest under an id newer (and claiming a higher revision).
        var forgedId = BackupNaming.CreateBackupId(newCreated.AddSeconds(1), newRevision + 10);
        var forgedArtifact = BackupNaming.ArtifactName("lab", forgedId);
        var target = Path.Combine(env.StoreDir, forgedArtifact);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Path.Combine(env.StoreDir, BackupNaming.ArtifactName("lab", oldId)), target);
        var forged = JsonNode.Parse(oldManifest)!;
        forged["backupId"] = forgedId;
        forged["artifact"]!["name"] = forgedArtifact;
        if (forgery is "strip-mac" or "recompute-figures")
        {
            forged.AsObject().Remove("integrity");
            forged["schemaVersion"] = 1;
            forged["artifact"]!["formatVersion"] = 1;
        }

        if (forgery == "recompute-figures")
        {
            forged["snapshot"]!["revision"] = newRevision + 10;
        }

        await File.WriteAllTextAsync(Path.Combine(env.StoreDir, BackupNaming.ManifestName("lab", forgedId)), forged.ToJsonString());
        var verify = await Cli.RunAsync("backup", "verify", forgedId, "--config", config, "-o", "json");
        var latest = await Cli.RunAsync("backup", "verify", "latest", "--config", config, "-o", "json");
        var genuine = await Cli.RunAsync("backup", "verify", newId, "--config", config);

        // Assert
        Assert.Equal(1, verify.ExitCode);
        using var report = JsonDocument.Parse(verify.Out);
        var failed = report.RootElement.GetProperty("checks").EnumerateArray()
            .Where(c => !c.GetProperty("passed").GetBoolean()).Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("manifest.mac", failed);
        Assert.Contains("artifact.identity", failed);
        Assert.Equal(1, latest.ExitCode);
        Assert.True(genuine.ExitCode == 0, genuine.Err + genuine.Out);
    }

    [Fact]
    public async Task Verify_ManifestFigureEdited_FailsOnMac()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var (id, manifest) = await RunBackupAsync(config);
        var node = JsonNode.Parse(manifest)!;
        node["flags"]!["keyCountDropped"] = true;
        var path = Path.Combine(env.StoreDir, BackupNaming.ManifestName("lab", id));
        File.SetAttributes(path, FileAttributes.Normal);
        await File.WriteAllTextAsync(path, node.ToJsonString());

        var verify = await Cli.RunAsync("backup", "verify", id, "--config", config);

        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("manifest.mac", verify.Err, StringComparison.Ordinal);
    }

    private static async Task<(string Id, string ManifestJson)> RunBackupAsync(string config)
    {
        var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
        Assert.True(run.ExitCode == 0, run.Err);
        using var result = JsonDocument.Parse(run.Out);
        var manifest = result.RootElement.GetProperty("manifest");
        return (manifest.GetProperty("backupId").GetString()!, manifest.GetRawText());
    }
}
