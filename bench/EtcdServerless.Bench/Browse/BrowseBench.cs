using System.Globalization;
using System.Text;
using System.Text.Json;
using EtcdServerless.Bench.Snapshot;
using EtcdServerless.Core.Keys;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Bench.Browse;

/// <summary>
/// Scenario "browse": fills a real etcd with at least --size-mb of Kubernetes-sized values (--value-bytes,
/// default 2 KiB, so a 1 GB database holds about half a million keys), takes one backup into a local store, then
/// runs side by side and alternating <c>etcdctl get /registry/ --prefix --keys-only</c> on the live member and
/// <c>etcd-backup backup ls latest --prefix /registry/</c> on the backup (download, decrypt, sha256 check, bbolt
/// walk, sort; published binary, process start included). Prints median wall and CPU time and peak RSS.
/// Usage: bench browse [--size-mb 1024] [--value-bytes 2048] [--runs 3] [--cli PATH-TO-etcd-backup]
/// </summary>
internal static class BrowseBench
{
    private const int PutsPerTxn = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = SnapshotBench.IntArg(args, "--size-mb", 1024);
        var valueBytes = SnapshotBench.IntArg(args, "--value-bytes", 2048);
        var runs = SnapshotBench.IntArg(args, "--runs", 3);
        using var work = new TempDirectory("etcdsl-bench-browse");
        var cli = SnapshotBench.StringArg(args, "--cli") ?? await SnapshotBench.PublishCliAsync(work.Combine("cli")).ConfigureAwait(false);
        var time = RequiredTool.Find("time", "apt-get install time (GNU time, for peak memory)");

        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            ExtraArguments = ["--quota-backend-bytes=8589934592", "--snapshot-count=100000"],
        }).ConfigureAwait(false);
        var (dbSize, keys) = await LoadAsync(cluster, sizeMb * 1_000_000L, valueBytes).ConfigureAwait(false);
        Console.Error.WriteLine($"etcd loaded: {keys:N0} keys, db size {dbSize:N0} bytes");

        using (await new LocalKeyStore(work.Combine("keys")).InitializeAsync().ConfigureAwait(false))
        {
        }

        var config = work.Combine("config.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(work.Combine("store")).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(work.Combine("keys")).AbsoluteUri },
            Clusters = new { bench = new { Endpoints = cluster.ClientUrls } },
        })).ConfigureAwait(false);
        var backup = await SnapshotBench.MeasureAsync(time, cli, ["backup", "run", "--config", config]).ConfigureAwait(false);
        if (backup.ExitCode != 0)
        {
            return 1;
        }

        var theirs = new List<SnapshotBench.Run>();
        var ours = new List<SnapshotBench.Run>();
        for (var run = 0; run < runs; run++)
        {
            theirs.Add(await SnapshotBench.MeasureAsync(time, cluster.EtcdCtlPath, ["--endpoints=" + cluster.ClientUrls[0], "get", "/registry/", "--prefix", "--keys-only"]).ConfigureAwait(false));
            ours.Add(await SnapshotBench.MeasureAsync(time, cli, ["backup", "ls", "latest", "--config", config, "--prefix", "/registry/"]).ConfigureAwait(false));
        }

        // Same keys, or the comparison means nothing.
        var theirKeys = theirs[^1].Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        var ourLines = ours[^1].Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var ourKeys = ourLines.Length - 2;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"browse: {keys:N0} keys of {valueBytes} B, etcd db {dbSize / 1_000_000.0:F0} MB, snapshot backed up in {backup.Seconds:F1} s; {runs} alternating runs, medians");
        report.AppendLine("| command | keys listed | wall | CPU (user+sys) | peak RSS |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        Row("`etcdctl get /registry/ --prefix --keys-only` (live member)", theirKeys, theirs);
        Row("`etcd-backup backup ls latest --prefix /registry/` (the backup)", ourKeys, ours);
        report.AppendLine(CultureInfo.InvariantCulture, $"ratio ours/etcdctl: wall {SnapshotBench.Median(ours.Select(r => r.Seconds)) / SnapshotBench.Median(theirs.Select(r => r.Seconds)):F2}x, CPU {SnapshotBench.Median(ours.Select(r => r.CpuSeconds)) / SnapshotBench.Median(theirs.Select(r => r.CpuSeconds)):F2}x; same key count: {theirKeys == ourKeys} ({ourLines[^1]})");
        Console.WriteLine(report.ToString());
        return theirKeys == ourKeys && ours.All(r => r.ExitCode == 0) ? 0 : 1;

        void Row(string name, int listed, List<SnapshotBench.Run> results) =>
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {listed:N0} | {SnapshotBench.Median(results.Select(r => r.Seconds)):F2} s | {SnapshotBench.Median(results.Select(r => r.CpuSeconds)):F2} s | {results.Max(r => r.PeakKb) / 1024.0:F0} MiB |");
    }

    private static async Task<(long DbSize, int Keys)> LoadAsync(EtcdTestCluster cluster, long targetBytes, int valueBytes)
    {
        var next = 0;
        long dbSize = 0;
        while (dbSize < targetBytes)
        {
            // Four transactions in parallel (etcd allows 128 operations per transaction), then check the size.
            var batch = Enumerable.Range(0, 4).Select(_ =>
            {
                var ops = new StringBuilder("\n");
                for (var i = 0; i < PutsPerTxn; i++)
                {
                    var n = Interlocked.Increment(ref next);
                    var value = string.Create(CultureInfo.InvariantCulture, $"{n:x8}").PadRight(valueBytes, (char)('a' + (n % 26)));
                    ops.Append(CultureInfo.InvariantCulture, $"put /registry/pods/ns{n % 97:D2}/pod-{n:D8} {value}\n");
                }

                return cluster.EtcdCtlStdinAsync(ops.Append("\n\n").ToString(), "txn");
            });
            await Task.WhenAll(batch).ConfigureAwait(false);
            if (next % 20_000 < 400)
            {
                var status = await cluster.EtcdCtlAsync("endpoint", "status", "-w", "json").ConfigureAwait(false);
                using var doc = JsonDocument.Parse(status);
                dbSize = doc.RootElement[0].GetProperty("Status").GetProperty("dbSize").GetInt64();
                Console.Error.WriteLine($"loaded {next:N0} keys, db {dbSize:N0} bytes");
            }
        }

        return (dbSize, next);
    }
}
