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
