using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EtcdServerless.Bench.Data;
using EtcdServerless.Bench.Harness;
using EtcdServerless.Bench.Snapshot;
using EtcdServerless.Testing.Azurite;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using static EtcdServerless.Bench.Harness.BenchCli;
using static EtcdServerless.Bench.Snapshot.SnapshotBench;

namespace EtcdServerless.Bench.Backup;

/// <summary>
/// Scenario "backup": fills a real etcd to at least --size-mb with --data (k8s: Kubernetes-like objects, several
/// revisions, compressible; random: incompressible values), then, alternating --runs times: <c>etcdctl snapshot
/// save</c> and the published CLI as users run it, <c>etcd-backup backup run</c> (default settings: zstd blocks,
/// AES-GCM, trailer check, bbolt inspection, write-once store, manifest), as separate processes, into the local
/// store and into Azurite. Prints median wall and CPU time (user + sys, GNU time), the ratios to etcdctl and the
/// CLI process's peak RSS.
/// Usage: bench backup [--size-mb 256] [--data k8s|random] [--runs 3] [--cli PATH-TO-etcd-backup] [--compare OTHER-etcd-backup] [--no-azurite]
/// </summary>
internal static class BackupBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = IntArg(args, "--size-mb", 256);
        var runs = IntArg(args, "--runs", 3);
        var data = BenchData.Parse(StringArg(args, "--data"));
        var azurite = !args.Contains("--no-azurite");
        using var work = new TempDirectory("etcdsl-bench-backup");
        var cli = StringArg(args, "--cli") ?? await PublishCliAsync(work.Combine("cli")).ConfigureAwait(false);
        // Other builds of the CLI (e.g. the previous commit, published the same way) measured in the same runs.
        var clis = new List<(string Label, string Path)> { ("", cli) };
        for (var i = Array.IndexOf(args, "--compare"); i >= 0 && i + 1 < args.Length; i = Array.IndexOf(args, "--compare", i + 1))
        {
            clis.Add(($" ({Path.GetFileName(Path.GetDirectoryName(args[i + 1]))}/{Path.GetFileName(args[i + 1])})", args[i + 1]));
        }

        var time = RequiredTool.Find("time", "apt-get install time (GNU time, for CPU time and peak memory)");

        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            // 8 GiB quota: etcd's default 2 GiB refuses writes long before a 1 GB database with its revisions.
            ExtraArguments = ["--quota-backend-bytes=8589934592", "--snapshot-count=100000"],
        }).ConfigureAwait(false);
        var endpoint = cluster.ClientUrls[0];
        var dbSize = await BenchData.FillAsync(endpoint, data, sizeMb * 1_000_000L).ConfigureAwait(false);
        Console.Error.WriteLine($"etcd loaded ({BenchData.Name(data)}): db size {dbSize:N0} bytes");

        var keys = work.Combine("keys");
        var targets = new List<(string Name, string Config)>
        {
            ("local store", await WriteConfigAsync(work.Combine("local.json"), new Uri(work.Combine("store")).AbsoluteUri, keys, endpoint).ConfigureAwait(false)),
        };
        await using var blob = azurite ? await AzuriteProcess.StartAsync().ConfigureAwait(false) : null;
        if (blob is not null)
        {
            targets.Add(("Azurite", await WriteConfigAsync(work.Combine("azurite.json"), blob.BlobEndpoint + "/backups", keys, endpoint, AzuriteProcess.AccountKey).ConfigureAwait(false)));
            await RequireAsync(time, cli, ["store", "init", "--config", targets[^1].Config]).ConfigureAwait(false);
        }

        await RequireAsync(time, cli, ["keys", "init", "--config", targets[0].Config]).ConfigureAwait(false);

        var theirsFile = work.Combine("etcdctl.db");
        var etcdctl = new List<Run>();
        var ours = targets.SelectMany(t => clis.Select(c => t.Name + c.Label)).ToDictionary(n => n, _ => new List<Run>());
        for (var run = 0; run < runs; run++)
        {
            File.Delete(theirsFile);
            etcdctl.Add(await MeasureAsync(time, cluster.EtcdCtlPath, ["--endpoints=" + endpoint, "snapshot", "save", theirsFile]).ConfigureAwait(false));
            foreach (var (name, config) in targets)
            {
                foreach (var (label, path) in clis)
                {
                    ours[name + label].Add(await RequireAsync(time, path, ["backup", "run", "--config", config, "--cluster", Cluster, "-o", "json"]).ConfigureAwait(false));
                }
            }
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"data {BenchData.Name(data)}, snapshot {new FileInfo(theirsFile).Length:N0} bytes, {runs} runs each (median), {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        report.AppendLine();
        report.AppendLine("| operation | wall | CPU (user+sys) | wall ratio | CPU ratio | peak RSS | artifact bytes |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        var tw = Median(etcdctl.Select(r => r.Seconds));
        var tc = Median(etcdctl.Select(r => r.CpuSeconds));
        report.AppendLine(CultureInfo.InvariantCulture, $"| `etcdctl snapshot save` | {tw * 1000:F0} ms | {tc * 1000:F0} ms | 1.00x | 1.00x | {etcdctl.Max(r => r.PeakKb) / 1024.0:F0} MiB | |");
        foreach (var (name, measured) in ours)
        {
            var w = Median(measured.Select(r => r.Seconds));
            var c = Median(measured.Select(r => r.CpuSeconds));
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| `etcd-backup backup run` -> {name} | {w * 1000:F0} ms | {c * 1000:F0} ms | {w / tw:F2}x | {c / tc:F2}x | {measured.Max(r => r.PeakKb) / 1024.0:F0} MiB | {ArtifactSize(measured[^1].Output)} |");
        }

        Console.WriteLine(report.ToString());
        return 0;
    }

    private static string ArtifactSize(string output)
    {
        try
        {
            var node = JsonNode.Parse(output);
            var artifact = Find(node, "artifact");
            return artifact?["size"]?.GetValue<long>().ToString("N0", CultureInfo.InvariantCulture) ?? "?";
        }
        catch (JsonException)
        {
            return "?";
        }
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
