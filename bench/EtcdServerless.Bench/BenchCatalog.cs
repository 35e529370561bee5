namespace EtcdServerless.Bench;

/// <summary>Scenario name to entry point. Each scenario lives in its own file and adds one line here.</summary>
internal static class BenchCatalog
{
    private static readonly Dictionary<string, Func<string[], Task<int>>> s_scenarios = new(StringComparer.Ordinal)
    {
        ["snapshot"] = Snapshot.SnapshotBench.RunAsync,
        ["seal"] = Seal.SealScenario.RunAsync,
        ["backup"] = Backup.BackupBench.RunAsync,
        ["restore"] = Restore.RestoreBench.RunAsync,
        ["browse"] = Browse.BrowseBench.RunAsync,
        ["s3"] = S3.S3UploadBench.RunAsync,
        ["exporters"] = Metrics.ExporterBench.RunAsync,
        ["deltas"] = Deltas.DeltasBench.RunAsync,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || !s_scenarios.TryGetValue(args[0], out var run))
        {
            await Console.Error.WriteLineAsync($"usage: bench <{string.Join('|', s_scenarios.Keys.Order(StringComparer.Ordinal))}> [options]").ConfigureAwait(false);
            return 2;
        }

        return await run(args[1..]).ConfigureAwait(false);
    }
}
