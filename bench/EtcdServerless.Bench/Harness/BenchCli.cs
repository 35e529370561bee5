using System.Text.Json.Nodes;
using EtcdServerless.Bench.Snapshot;

namespace EtcdServerless.Bench.Harness;

/// <summary>
/// Running the published CLI as users do: its config.json (one cluster, a store, local keys), a measured run that
/// must succeed, and a look into its <c>-o json</c> output.
/// </summary>
internal static class BenchCli
{
    /// <summary>The cluster name the scenarios configure.</summary>
    public const string Cluster = "bench";

    /// <summary>Writes a config with <paramref name="storeUri"/> (write-once off), local keys and one cluster.</summary>
    public static async Task<string> WriteConfigAsync(string path, string storeUri, string keys, string endpoint, string? accountKey = null)
    {
        var store = new JsonObject { ["Uri"] = storeUri, ["ImmutabilityDays"] = 0 };
        if (accountKey is not null)
        {
            store["AccountKey"] = accountKey;
        }

        var config = new JsonObject
        {
            ["Store"] = store,
            ["Keys"] = new JsonObject { ["Uri"] = new Uri(keys).AbsoluteUri },
            ["Clusters"] = new JsonObject { [Cluster] = new JsonObject { ["Endpoints"] = new JsonArray(endpoint) } },
        };
        await File.WriteAllTextAsync(path, config.ToJsonString()).ConfigureAwait(false);
        return path;
    }

    /// <summary><see cref="SnapshotBench.MeasureAsync"/>, failing unless the process exits 0.</summary>
    public static async Task<SnapshotBench.Run> RequireAsync(string time, string cli, string[] arguments)
    {
        var run = await SnapshotBench.MeasureAsync(time, cli, arguments).ConfigureAwait(false);
        return run.ExitCode == 0 ? run : throw new InvalidOperationException($"{Path.GetFileName(cli)} {string.Join(' ', arguments)} failed (exit {run.ExitCode})");
    }

    /// <summary>The first property called <paramref name="name"/>, depth first.</summary>
    public static JsonNode? Find(JsonNode? node, string name) => node switch
    {
        JsonObject o => o.TryGetPropertyValue(name, out var hit) ? hit : o.Select(p => Find(p.Value, name)).FirstOrDefault(n => n is not null),
        JsonArray a => a.Select(n => Find(n, name)).FirstOrDefault(n => n is not null),
        _ => null,
    };
}
