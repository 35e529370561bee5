using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EtcdServerless.Bench.Data;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using static EtcdServerless.Bench.Harness.BenchCli;
using static EtcdServerless.Bench.Snapshot.SnapshotBench;

namespace EtcdServerless.Bench.Deltas;

/// <summary>
/// Scenario "deltas": fills a real etcd to at least --size-mb with --data (as bench backup does) and takes one full
/// backup (<c>etcd-backup backup run</c>) into a local store. Then, side by side in one run:
/// A) a writer in this process puts small values (128 B, 10,000 keys) as fast as it can up to --rate puts/s for
/// --seconds, while <c>etcd-backup backup deltas</c> runs every --interval-seconds as a separate process; per
/// capture: wall and CPU time, peak RSS, the segment's revisions, events and size, and the revision gap between the
/// newest revision written and the segment's end when the capture ends; the RPO bound is interval + slowest
/// capture. One more capture after the writer stops closes the chain.
/// B) the restore input at the last captured revision: <c>backup materialize --to-revision</c> (full backup +
/// segments replayed) against the baseline <c>backup export latest</c> (the full backup alone), each followed by
/// <c>etcdctl snapshot restore</c> of the file into a data dir; the materialized snapshot's revision is checked.
/// Usage: bench deltas [--size-mb 256] [--data k8s|random] [--rate 10000] [--seconds 60] [--interval-seconds 10] [--writers 64] [--captures-only] [--cli PATH-TO-etcd-backup]
/// (--captures-only stops after A).
/// </summary>
internal static class DeltasBench
{
    private const int Keys = 10_000;
    private const int ValueBytes = 128;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = IntArg(args, "--size-mb", 256);
        var rate = IntArg(args, "--rate", 10_000);
        var seconds = IntArg(args, "--seconds", 60);
        var interval = IntArg(args, "--interval-seconds", 10);
        var data = BenchData.Parse(StringArg(args, "--data"));
        var capturesOnly = args.Contains("--captures-only");
        var writers = IntArg(args, "--writers", 64);
        var command = string.Create(CultureInfo.InvariantCulture,
            $"dotnet run -c Release --project bench/EtcdServerless.Bench -- deltas --size-mb {sizeMb} --data {BenchData.Name(data)} --rate {rate} --seconds {seconds} --interval-seconds {interval}{(writers != 64 ? " --writers " + writers : "")}{(capturesOnly ? " --captures-only" : "")}{(StringArg(args, "--cli") is { } cliPath ? " --cli " + cliPath : "")}");
        using var work = new TempDirectory("etcdsl-bench-deltas");
        var cli = StringArg(args, "--cli") ?? await PublishCliAsync(work.Combine("cli")).ConfigureAwait(false);
        var time = RequiredTool.Find("time", "apt-get install time (GNU time, for CPU time and peak memory)");

        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            ExtraArguments = ["--quota-backend-bytes=8589934592", "--snapshot-count=100000"],
        }).ConfigureAwait(false);
        var endpoint = cluster.ClientUrls[0];
        var dbSize = await BenchData.FillAsync(endpoint, data, sizeMb * 1_000_000L).ConfigureAwait(false);
        Console.Error.WriteLine($"etcd loaded ({BenchData.Name(data)}): db size {dbSize:N0} bytes");

        var config = await WriteConfigAsync(work.Combine("config.json"), new Uri(work.Combine("store")).AbsoluteUri, work.Combine("keys"), endpoint).ConfigureAwait(false);
        await RequireAsync(time, cli, ["keys", "init", "--config", config]).ConfigureAwait(false);
        var full = await RequireAsync(time, cli, ["backup", "run", "--config", config, "--cluster", Cluster, "-o", "json"]).ConfigureAwait(false);
        Console.Error.WriteLine($"full backup taken in {full.Seconds:F1} s");

        // A) Captures while the writer runs, then one after it stopped.
        using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(endpoint), CallTimeout = TimeSpan.FromMinutes(1) });
        var writer = new WriterState();
        using var stop = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var writing = WriteAsync(client, writers, rate, TimeSpan.FromSeconds(seconds), writer, stop.Token);
        var captures = new List<Capture>();
        try
        {
            for (var k = 1; ; k++)
            {
                var wait = TimeSpan.FromSeconds((double)interval * k) - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.WhenAny(writing, Task.Delay(wait)).ConfigureAwait(false);
                }

                if (writing.IsCompleted)
                {
                    break;
                }

                captures.Add(await CaptureAsync(time, cli, config, writer, clock, underLoad: true).ConfigureAwait(false));
            }

            await writing.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAny(writing).ConfigureAwait(false);
        }

        captures.Add(await CaptureAsync(time, cli, config, writer, clock, underLoad: false).ConfigureAwait(false));
        var target = captures[^1].Covered;
        var report = new StringBuilder();
        ReportCaptures();
        if (capturesOnly)
        {
            report.AppendLine("command: `" + command + "`");
            Console.WriteLine(report.ToString());
            return writer.Written > 0 && target >= Interlocked.Read(ref writer.NewestRevision) ? 0 : 1;
        }

        // B) Materialize first: whatever the page cache keeps of the full backup then favours the baseline.
        var materialized = work.Combine("materialized.db");
        var materialize = await RequireAsync(time, cli,
            ["backup", "materialize", "--config", config, "--cluster", Cluster, "--to-revision", target.ToString(CultureInfo.InvariantCulture), "-o", materialized, "--on-disk"]).ConfigureAwait(false);
        var restoreMaterialized = await RequireAsync(time, cluster.EtcdCtlPath, ["snapshot", "restore", materialized, "--data-dir", work.Combine("restored-materialized")]).ConfigureAwait(false);
        // The default: the throwaway member in /dev/shm when memory allows. Replay is one transaction per revision,
        // each waiting for etcd's log flush, so this shows what the disk costs.
        var materializedShm = work.Combine("materialized-memory.db");
        var materializeShm = await RequireAsync(time, cli,
            ["backup", "materialize", "--config", config, "--cluster", Cluster, "--to-revision", target.ToString(CultureInfo.InvariantCulture), "-o", materializedShm]).ConfigureAwait(false);
        var exported = work.Combine("exported.db");
        var export = await RequireAsync(time, cli, ["backup", "export", "latest", "--config", config, "--cluster", Cluster, "-o", exported]).ConfigureAwait(false);
        var restoreExported = await RequireAsync(time, cluster.EtcdCtlPath, ["snapshot", "restore", exported, "--data-dir", work.Combine("restored-exported")]).ConfigureAwait(false);
        var status = await RequireAsync(time, cluster.EtcdCtlPath, ["snapshot", "status", "-w", "json", materialized]).ConfigureAwait(false);
        var materializedRevision = JsonNode.Parse(status.Output)?["revision"]?.GetValue<long>() ?? -1;

        report.AppendLine();
        var segments = captures.Count(c => c.Revisions > 0);
        var revisions = captures.Sum(c => c.Revisions);
        report.AppendLine(CultureInfo.InvariantCulture, $"restore input at revision {target:N0} (full backup + {segments} segment(s), {revisions:N0} revisions):");
        report.AppendLine();
        report.AppendLine("| step | wall | CPU (user+sys) | peak RSS | output bytes |");
        report.AppendLine("|---|---:|---:|---:|---:|");
        Row($"`etcd-backup backup materialize --to-revision {target} --on-disk`", materialize, materialized);
        Row("`etcdctl snapshot restore` of the materialized file", restoreMaterialized, null);
        Row($"`etcd-backup backup materialize --to-revision {target}` (default: member in /dev/shm when memory allows)", materializeShm, materializedShm);
        Row("`etcd-backup backup export latest` (baseline: the full backup alone)", export, exported);
        Row("`etcdctl snapshot restore` of the exported file", restoreExported, null);
        var baseWall = export.Seconds + restoreExported.Seconds;
        var baseCpu = export.CpuSeconds + restoreExported.CpuSeconds;
        report.AppendLine(CultureInfo.InvariantCulture,
            $"ratio materialize / (export + restore): on disk wall **{materialize.Seconds / baseWall:F2}x**, CPU {materialize.CpuSeconds / baseCpu:F2}x; default (memory) wall **{materializeShm.Seconds / baseWall:F2}x**, CPU {materializeShm.CpuSeconds / baseCpu:F2}x; (materialize on disk + restore) / (export + restore): wall {(materialize.Seconds + restoreMaterialized.Seconds) / baseWall:F2}x");
        var ok = materializedRevision == target && writer.Written > 0;
        report.AppendLine("(GNU time: CPU is summed over the process and the children it waited for, peak RSS is the largest of them; so materialize's throwaway etcd and its restore tool are counted, the cluster's etcd is not.)");
        report.AppendLine(CultureInfo.InvariantCulture, $"materialized snapshot revision {materializedRevision:N0} (target {target:N0}): {(materializedRevision == target ? "ok" : "MISMATCH")}");
        report.AppendLine();
        report.AppendLine("command: `" + command + "`");
        Console.WriteLine(report.ToString());
        return ok ? 0 : 1;

        void ReportCaptures()
        {
            var underLoad = captures.Where(c => c.UnderLoad).ToList();
            report.AppendLine(CultureInfo.InvariantCulture,
                $"deltas: data {BenchData.Name(data)}, etcd db {dbSize / 1_000_000.0:F0} MB, full backup {full.Seconds:F1} s; {Environment.ProcessorCount} cores, load average {Backup.BackupBench.LoadAverage()}");
            report.AppendLine(CultureInfo.InvariantCulture,
                $"writer: target {rate:N0} puts/s of {ValueBytes} B for {seconds} s, {writers} in flight: {writer.Written:N0} puts in {writer.Elapsed.TotalSeconds:F1} s = **{writer.Written / writer.Elapsed.TotalSeconds:N0} puts/s** achieved (newest revision {Interlocked.Read(ref writer.NewestRevision):N0})");
            report.AppendLine();
            report.AppendLine("| capture | started at | wall (capture start to end) | CPU (user+sys) | peak RSS | revisions | events | segment bytes | end revision | newest written at end | revision gap at end |");
            report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (var i = 0; i < captures.Count; i++)
            {
                var c = captures[i];
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"| {(c.UnderLoad ? (i + 1).ToString(CultureInfo.InvariantCulture) : "after writes")} | {c.StartedAt:F1} s | {c.Run.Seconds:F2} s | {c.Run.CpuSeconds:F2} s | {c.Run.PeakKb / 1024.0:F0} MiB | {c.Revisions:N0} | {c.Events:N0} | {c.SegmentBytes:N0} | {c.Covered:N0} | {c.NewestAtEnd:N0} | {c.NewestAtEnd - c.Covered:N0} |");
            }

            if (underLoad.Count > 0)
            {
                var slowest = underLoad.Max(c => c.Run.Seconds);
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"under load: capture wall median {Median(underLoad.Select(c => c.Run.Seconds)):F2} s, max {slowest:F2} s; peak RSS max {underLoad.Max(c => c.Run.PeakKb) / 1024.0:F0} MiB; revision gap at end median {Median(underLoad.Select(c => (double)(c.NewestAtEnd - c.Covered))):N0}, max {underLoad.Max(c => c.NewestAtEnd - c.Covered):N0}");
                report.AppendLine(CultureInfo.InvariantCulture,
                    $"RPO bound: interval + slowest capture = {interval} s + {slowest:F2} s = **{interval + slowest:F1} s**");
            }
            else
            {
                report.AppendLine("under load: no capture ran while writing (--seconds not above --interval-seconds)");
            }
        }

        void Row(string name, Run run, string? file) =>
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {run.Seconds:F2} s | {run.CpuSeconds:F2} s | {run.PeakKb / 1024.0:F0} MiB | {(file is null ? "" : new FileInfo(file).Length.ToString("N0", CultureInfo.InvariantCulture))} |");
    }

    /// <summary>Puts as fast as it can, but no faster than <paramref name="rate"/> a second, for <paramref name="duration"/>.</summary>
    private static async Task WriteAsync(EtcdClient client, int writers, int rate, TimeSpan duration, WriterState state, CancellationToken cancellationToken)
    {
        var value = Encoding.ASCII.GetBytes(new string('v', ValueBytes));
        var clock = Stopwatch.StartNew();
        long issued = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, writers), new ParallelOptions { MaxDegreeOfParallelism = writers, CancellationToken = cancellationToken }, async (_, ct) =>
        {
            while (clock.Elapsed < duration)
            {
                // Put n is due at n / rate seconds: behind schedule, the writers just go as fast as etcd takes them.
                var n = Interlocked.Increment(ref issued);
                var wait = TimeSpan.FromSeconds((double)n / rate) - clock.Elapsed;
                if (wait >= duration - clock.Elapsed)
                {
                    break;
                }

                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                }

                var key = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"/bench/deltas/key-{n % Keys:D5}"));
                var result = await client.PutAsync(key, value, cancellationToken: ct).ConfigureAwait(false);
                Interlocked.Increment(ref state.Written);
                for (var seen = Interlocked.Read(ref state.NewestRevision); result.Header.Revision > seen; seen = Interlocked.Read(ref state.NewestRevision))
                {
                    if (Interlocked.CompareExchange(ref state.NewestRevision, result.Header.Revision, seen) == seen)
                    {
                        break;
                    }
                }
            }
        }).ConfigureAwait(false);
        state.Elapsed = clock.Elapsed;
    }

    private static async Task<Capture> CaptureAsync(string time, string cli, string config, WriterState writer, Stopwatch clock, bool underLoad)
    {
        var startedAt = clock.Elapsed.TotalSeconds;
        var run = await RequireAsync(time, cli, ["backup", "deltas", "--config", config, "--cluster", Cluster, "-o", "json"]).ConfigureAwait(false);
        var newest = Interlocked.Read(ref writer.NewestRevision);
        try
        {
            var node = JsonNode.Parse(run.Output);
            var segment = Find(node, "segment");
            var covered = Find(node, "coveredRevision")?.GetValue<long>() ?? 0;
            return new Capture(underLoad, startedAt, run, covered, newest,
                segment?["revisions"]?.GetValue<long>() ?? 0, segment?["events"]?.GetValue<long>() ?? 0, segment?["artifact"]?["size"]?.GetValue<long>() ?? 0);
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"backup deltas printed no JSON: {run.Output}", e);
        }
    }

    private sealed class WriterState
    {
#pragma warning disable SA1401 // Fields must be private: Interlocked needs them by reference.
        public long Written;
        public long NewestRevision;
#pragma warning restore SA1401

        public TimeSpan Elapsed { get; set; }
    }

    private sealed record Capture(bool UnderLoad, double StartedAt, Run Run, long Covered, long NewestAtEnd, long Revisions, long Events, long SegmentBytes);
}
