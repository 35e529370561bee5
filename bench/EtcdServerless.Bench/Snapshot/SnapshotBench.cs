using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Bench.Snapshot;

/// <summary>
/// Scenario "snapshot": fills a real etcd with at least --size-mb of data (--data k8s: Kubernetes-like objects,
/// random: incompressible values; without --data, 100 KB values of one repeated byte as before), then runs, side by side and alternating, <c>etcdctl snapshot save</c> vs
/// <c>etcd-backup snapshot save</c> (when that verb is available) and <c>etcdctl snapshot status</c> vs
/// <c>etcd-backup snapshot status</c> (published binary, process start included). Prints a markdown table of
/// median wall times, median CPU time (user + sys, which stays meaningful on a loaded machine), the ratios
/// ours/etcdctl and peak RSS (GNU time's maximum resident set size). It also measures and prints the floor a
/// verified status cannot beat: the file's size over this machine's SHA-256 rate (<c>openssl speed -evp sha256
/// -bytes 16384</c>) plus the start of a minimal .NET process, and <c>etcd-backup --version</c> beside that start.
/// Usage: bench snapshot [--size-mb 256] [--data k8s|random] [--runs 5] [--cli PATH-TO-etcd-backup] [--keep COPY-OF-SNAPSHOT]
/// </summary>
internal static class SnapshotBench
{
    private const int ValueBytes = 100 * 1024;
    private const int PutsPerTxn = 12; // 12 x 100 KB stays under etcd's 1.5 MiB request limit.

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = IntArg(args, "--size-mb", 256);
        var runs = IntArg(args, "--runs", 5);
        using var work = new TempDirectory("etcdsl-bench-snapshot");
        var cli = StringArg(args, "--cli") ?? await PublishCliAsync(work.Combine("cli")).ConfigureAwait(false);
        var time = RequiredTool.Find("time", "apt-get install time (GNU time, for peak memory)");

        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            ExtraArguments = ["--quota-backend-bytes=8589934592", "--snapshot-count=100000"],
        }).ConfigureAwait(false);
        var endpoint = cluster.ClientUrls[0];
        var dbSize = StringArg(args, "--data") is { } data
            ? await Data.BenchData.FillAsync(endpoint, Data.BenchData.Parse(data), sizeMb * 1_000_000L).ConfigureAwait(false)
            : await LoadAsync(cluster, sizeMb * 1_000_000L).ConfigureAwait(false);
        Console.Error.WriteLine($"etcd loaded: db size {dbSize:N0} bytes");

        var saveAvailable = (await MeasureAsync(time, cli, ["snapshot", "save", "--help"]).ConfigureAwait(false)).Output.Contains("--endpoints", StringComparison.Ordinal);
        var theirsFile = work.Combine("etcdctl.db");
        var oursFile = work.Combine("ours.db");
        var rows = new List<(string Name, List<Run> Theirs, List<Run> Ours)>();
        var saveTheirs = new List<Run>();
        var saveOurs = new List<Run>();
        var statusTheirs = new List<Run>();
        var statusOurs = new List<Run>();
        var statusOursSkip = new List<Run>();
        string? theirsJson = null;
        string? oursJson = null;
        for (var run = 0; run < runs; run++)
        {
            File.Delete(theirsFile);
            saveTheirs.Add(await MeasureAsync(time, cluster.EtcdCtlPath, ["--endpoints=" + endpoint, "snapshot", "save", theirsFile]).ConfigureAwait(false));
            if (saveAvailable)
            {
                File.Delete(oursFile);
                saveOurs.Add(await MeasureAsync(time, cli, ["snapshot", "save", oursFile, "--endpoints", endpoint]).ConfigureAwait(false));
            }

            var theirs = await MeasureAsync(time, cluster.EtcdCtlPath, ["snapshot", "status", "-w", "json", theirsFile]).ConfigureAwait(false);
            var ours = await MeasureAsync(time, cli, ["snapshot", "status", "-o", "json", theirsFile]).ConfigureAwait(false);
            var oursSkip = await MeasureAsync(time, cli, ["snapshot", "status", "-o", "json", "--skip-hash-check", theirsFile]).ConfigureAwait(false);
            statusTheirs.Add(theirs);
            statusOurs.Add(ours);
            statusOursSkip.Add(oursSkip);
            theirsJson = theirs.Output.Trim();
            oursJson = ours.Output.Trim();
        }

        var snapshotBytes = new FileInfo(theirsFile).Length;
        var hello = await Harness.StartupFloor.MeasureAsync(time, work.Combine("floor"), runs).ConfigureAwait(false);
        var versions = new List<Run>();
        for (var run = 0; run < runs; run++)
        {
            versions.Add(await MeasureAsync(time, cli, ["--version"]).ConfigureAwait(false));
        }

        var shaRate = await Sha256RateAsync().ConfigureAwait(false);
        if (StringArg(args, "--keep") is { } keep)
        {
            File.Copy(theirsFile, keep, overwrite: true);
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"snapshot: {snapshotBytes:N0} bytes, {runs} runs each (median), {Environment.ProcessorCount} cores");
        report.AppendLine();
        report.AppendLine("| operation | etcdctl wall | etcd-backup wall | wall ratio | etcdctl CPU | etcd-backup CPU | CPU ratio | etcdctl peak RSS | etcd-backup peak RSS |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        if (saveAvailable)
        {
            Row(report, "snapshot save", saveTheirs, saveOurs);
        }

        Row(report, "snapshot status (sha256 verified)", statusTheirs, statusOurs);
        Row(report, "snapshot status --skip-hash-check", statusTheirs, statusOursSkip);
        report.AppendLine();
        var floor = (snapshotBytes / shaRate) + hello.Seconds;
        var verified = Median(statusOurs.Select(r => r.Seconds));
        report.AppendLine(CultureInfo.InvariantCulture,
            $"process start: hello world {hello.Seconds * 1000:F0} ms wall / {hello.CpuSeconds * 1000:F0} ms CPU / {hello.PeakKb / 1024.0:F0} MiB; etcd-backup --version {Median(versions.Select(r => r.Seconds)) * 1000:F0} ms wall / {Median(versions.Select(r => r.CpuSeconds)) * 1000:F0} ms CPU / {versions.Max(r => r.PeakKb) / 1024.0:F0} MiB (median)");
        report.AppendLine(CultureInfo.InvariantCulture,
            $"SHA-256 floor: {snapshotBytes:N0} B / {shaRate / 1e6:F0} MB/s (openssl speed -evp sha256 -bytes 16384) + hello-world start = {floor * 1000:F0} ms; verified status {verified * 1000:F0} ms = {verified / floor:F2}x the floor");
        report.AppendLine(CultureInfo.InvariantCulture, $"load average at the end: {Backup.BackupBench.LoadAverage()}");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"etcdctl:     {theirsJson}");
        report.AppendLine(CultureInfo.InvariantCulture, $"etcd-backup: {oursJson}");
        if (!saveAvailable)
        {
            report.AppendLine("etcd-backup snapshot save is not available in this build; only status was measured.");
        }

        Console.WriteLine(report.ToString());
        var same = SameStatus(theirsJson, oursJson);
        Console.WriteLine(same ? "status: identical" : "status: DIFFERENT");
        return same && statusOurs.All(r => r.ExitCode == 0) && saveOurs.All(r => r.ExitCode == 0) ? 0 : 1;
    }

    private static void Row(StringBuilder report, string name, List<Run> theirs, List<Run> ours)
    {
        var t = Median(theirs.Select(r => r.Seconds));
        var o = Median(ours.Select(r => r.Seconds));
        var tc = Median(theirs.Select(r => r.CpuSeconds));
        var oc = Median(ours.Select(r => r.CpuSeconds));
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {t * 1000:F0} ms | {o * 1000:F0} ms | {o / t:F2}x | {tc * 1000:F0} ms | {oc * 1000:F0} ms | {oc / tc:F2}x | {theirs.Max(r => r.PeakKb) / 1024.0:F0} MiB | {ours.Max(r => r.PeakKb) / 1024.0:F0} MiB |");
    }

    private static bool SameStatus(string? theirs, string? ours)
    {
        if (theirs is null || ours is null)
        {
            return false;
        }

        using var a = JsonDocument.Parse(theirs);
        using var b = JsonDocument.Parse(ours);
        return new[] { "hash", "revision", "totalKey", "totalSize" }.All(p =>
            a.RootElement.GetProperty(p).GetRawText() == b.RootElement.GetProperty(p).GetRawText());
    }

    private static async Task<long> LoadAsync(EtcdTestCluster cluster, long targetBytes)
    {
        var value = new string('v', ValueBytes);
        var next = 0;
        long dbSize = 0;
        while (dbSize < targetBytes)
        {
            // Eight transactions in parallel, then check the size.
            var batch = Enumerable.Range(0, 8).Select(_ =>
            {
                var ops = new StringBuilder("\n");
                for (var i = 0; i < PutsPerTxn; i++)
                {
                    ops.Append(CultureInfo.InvariantCulture, $"put /registry/bench/{Interlocked.Increment(ref next):D8} {value}\n");
                }

                return cluster.EtcdCtlStdinAsync(ops.Append("\n\n").ToString(), "txn");
            });
            await Task.WhenAll(batch).ConfigureAwait(false);
            var status = await cluster.EtcdCtlAsync("endpoint", "status", "-w", "json").ConfigureAwait(false);
            using var doc = JsonDocument.Parse(status);
            dbSize = doc.RootElement[0].GetProperty("Status").GetProperty("dbSize").GetInt64();
        }

        return dbSize;
    }

    internal static async Task<Run> MeasureAsync(string time, string program, IReadOnlyList<string> arguments)
    {
        var stats = Path.GetTempFileName();
        try
        {
            var info = new ProcessStartInfo(time) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])["-f", "%M %U %S", "-o", stats, program, .. arguments])
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["ETCDCTL_API"] = "3";
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().ConfigureAwait(false);
            watch.Stop();
            var output = await stdout.ConfigureAwait(false);
            var error = await stderr.ConfigureAwait(false);
            if (process.ExitCode != 0 && !arguments.Contains("--help"))
            {
                Console.Error.WriteLine($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited {process.ExitCode}: {error.Trim()}");
            }

            var lines = (await File.ReadAllLinesAsync(stats).ConfigureAwait(false)).Where(l => l.Length > 0).ToArray();
            var fields = lines.Length > 0 ? lines[^1].Split(' ') : [];
            var peak = fields.Length == 3 && long.TryParse(fields[0], CultureInfo.InvariantCulture, out var kb) ? kb : 0;
            var cpu = fields.Length == 3
                ? double.Parse(fields[1], CultureInfo.InvariantCulture) + double.Parse(fields[2], CultureInfo.InvariantCulture)
                : double.NaN;
            return new Run(watch.Elapsed.TotalSeconds, cpu, peak, process.ExitCode, output);
        }
        finally
        {
            File.Delete(stats);
        }
    }

    // Bytes per second of one core's SHA-256 on this machine, as openssl measures it (16 KiB blocks).
    private static async Task<double> Sha256RateAsync()
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["speed", "-evp", "sha256", "-bytes", "16384", "-seconds", "2"])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        _ = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("sha256", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("openssl speed printed no sha256 line");
        var thousands = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].TrimEnd('k');
        return double.Parse(thousands, CultureInfo.InvariantCulture) * 1000;
    }

    internal static async Task<string> PublishCliAsync(string output)
    {
        // The working directory first: with ETCDSL_ARTIFACTS the binaries live outside the repository.
        var root = FindRepositoryRoot(Environment.CurrentDirectory) ?? FindRepositoryRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("run from inside the repository or pass --cli");

        // As users install it: the project's own publish settings (ReadyToRun for a runtime); process start is
        // part of what is measured.
        Console.Error.WriteLine("publishing etcd-backup (Release, linux-x64, the project's publish settings)...");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = root };
        foreach (var a in (string[])["publish", "src/EtcdServerless.Cli", "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", output, "--nologo", "-v", "q"])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        await process.WaitForExitAsync().ConfigureAwait(false);
        return process.ExitCode == 0
            ? Path.Combine(output, "etcd-backup")
            : throw new InvalidOperationException("dotnet publish of the CLI failed");
    }

    private static string? FindRepositoryRoot(string? start)
    {
        for (var dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "EtcdServerless.sln")))
            {
                return dir;
            }
        }

        return null;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    internal static int IntArg(string[] args, string name, int fallback) =>
        StringArg(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    internal static string? StringArg(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    internal sealed record Run(double Seconds, double CpuSeconds, long PeakKb, int ExitCode, string Output);
}
