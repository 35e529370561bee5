using System.Text.Json;
using EtcdServerless.Core.Keys;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests;

/// <summary>A temp store dir and a separate temp key dir (with a KEK), and a config file pointing at them.</summary>
internal sealed class CliTestEnvironment : IDisposable
{
    private readonly TempDirectory _root = new("etcdsl-cli");

    public CliTestEnvironment()
    {
        Directory.CreateDirectory(StoreDir);
        Directory.CreateDirectory(KeysDir);
    }

    public string StoreDir => _root.Combine("store");

    public string KeysDir => _root.Combine("keys");

    public string ConfigPath => _root.Combine("config.json");

    public string Combine(params string[] parts) => _root.Combine(parts);

    public async Task InitializeKeysAsync()
    {
        using var kek = await new LocalKeyStore(KeysDir).InitializeAsync();
    }

    /// <summary>Writes a config with the given clusters (name → endpoints, schedule) and returns its path.</summary>
    public string WriteConfig(IReadOnlyDictionary<string, IReadOnlyList<string>> clusters, string? apiKey = null, string? schedule = null)
    {
        var config = new Dictionary<string, object?>
        {
            ["Store"] = new { Uri = new Uri(StoreDir).AbsoluteUri, ImmutabilityDays = 0 },
            ["Keys"] = new { Uri = new Uri(KeysDir).AbsoluteUri },
            ["Clusters"] = clusters.ToDictionary(c => c.Key, c => (object)new { Endpoints = c.Value, Schedule = schedule }),
            ["Api"] = new { Urls = "http://127.0.0.1:0", ApiKey = apiKey },
        };
        File.WriteAllText(ConfigPath, JsonSerializer.Serialize(config));
        return ConfigPath;
    }

    /// <summary>Keys, a config for cluster <c>lab</c> at <paramref name="endpoints"/> and one real backup: its config and id.</summary>
    public async Task<(string Config, string BackupId)> BackupOnceAsync(IReadOnlyList<string> endpoints)
    {
        await InitializeKeysAsync();
        var config = WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = endpoints });
        var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
        Assert.True(run.ExitCode == 0, run.Err);
        using var result = JsonDocument.Parse(run.Out);
        return (config, result.RootElement.GetProperty("manifest").GetProperty("backupId").GetString()!);
    }

    /// <summary>
    /// Keys, a config for cluster <c>lab</c> at <paramref name="endpoints"/>, one real backup, then one byte in the
    /// middle of its artifact flipped (the store made it read-only; the test makes it writable again). Returns the config.
    /// </summary>
    public async Task<string> BackupWithTamperedArtifactAsync(IReadOnlyList<string> endpoints)
    {
        var (config, _) = await BackupOnceAsync(endpoints);
        var artifact = Directory.GetFiles(StoreDir, "*.snap.enc", SearchOption.AllDirectories).Single();
        File.SetAttributes(artifact, FileAttributes.Normal);
        var bytes = await File.ReadAllBytesAsync(artifact);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(artifact, bytes);
        return config;
    }

    public void Dispose() => _root.Dispose();
}

/// <summary>Runs the CLI in-process and captures its output.</summary>
internal static class Cli
{
    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
