using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EtcdServerless.Bench.Snapshot;
using EtcdServerless.Core.Monitoring;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Prometheus;

namespace EtcdServerless.Bench.Metrics;

/// <summary>
/// Scenario "exporters": the two Prometheus exporters the feed serves, on the product's own instruments
/// (<see cref="BackupMetrics"/>, --clusters clusters with every gauge set and a histogram and counter recorded), each in
/// a fresh process per run, alternating: OpenTelemetry.Exporter.Prometheus.AspNetCore and prometheus-net.AspNetCore
/// (its meter adapter, default metrics suppressed). Measures the time from process start to the first /metrics answer
/// (wall and the process's CPU), the managed bytes allocated per scrape (median of --scrapes scrapes, response caching
/// off, the client's allocations included for both), the response size and the working set. Prints medians.
/// Usage: bench exporters [--runs 7] [--clusters 10] [--scrapes 200]
/// </summary>
internal static class ExporterBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "--child")
        {
            return await ChildAsync(args[1], SnapshotBench.IntArg(args, "--clusters", 10), SnapshotBench.IntArg(args, "--scrapes", 200)).ConfigureAwait(false);
        }

        var runs = SnapshotBench.IntArg(args, "--runs", 7);
        var clusters = SnapshotBench.IntArg(args, "--clusters", 10);
        var scrapes = SnapshotBench.IntArg(args, "--scrapes", 200);
        var results = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal) { ["otel"] = [], ["prometheus-net"] = [] };
        for (var run = 0; run < runs; run++)
        {
            foreach (var kind in results.Keys)
            {
                results[kind].Add(await RunChildAsync(kind, clusters, scrapes).ConfigureAwait(false));
            }
        }

        Console.WriteLine($"exporters: {runs} runs each, {clusters} clusters, {scrapes} scrapes per run (medians)");
        Console.WriteLine("exporter         start->1st scrape wall ms   cpu ms   alloc/scrape B   response B   working set MB");
        foreach (var (kind, list) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind,-16} {Median(list, "firstScrapeMs"),26:F0} {Median(list, "cpuMs"),8:F0} {Median(list, "allocPerScrape"),16:F0} {Median(list, "responseBytes"),12:F0} {Median(list, "workingSetMb"),16:F1}"));
        }

        return 0;
    }

    private static double Median(List<JsonElement> runs, string property)
    {
        var values = runs.Select(r => r.GetProperty(property).GetDouble()).Order().ToList();
        return values[values.Count / 2];
    }

    private static async Task<JsonElement> RunChildAsync(string kind, int clusters, int scrapes)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(ExporterBench).Assembly.Location);
        }

        foreach (var arg in new[] { "exporters", "--child", kind, "--clusters", clusters.ToString(CultureInfo.InvariantCulture), "--scrapes", scrapes.ToString(CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"exporter child {kind} exited {process.ExitCode}: {output}");
        }

        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static async Task<int> ChildAsync(string kind, int clusters, int scrapes)
    {
        using var self = Process.GetCurrentProcess();
        using var metrics = new BackupMetrics();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (kind == "otel")
        {
            builder.Services.AddOpenTelemetry().WithMetrics(m => m
                .AddMeter(BackupMetrics.MeterName)
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        }
        else
        {
            // Only the process and debug metrics are left out; the meter adapter is what exports our instruments.
            Prometheus.Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressProcessMetrics = true, SuppressDebugMetrics = true, SuppressEventCounters = true, SuppressMeters = false });
            Prometheus.Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = i => i.Meter.Name == BackupMetrics.MeterName);

            // The adapter connects when the default registry is first used (else at the first scrape, and what was
            // recorded before is lost): connect it now, as the OpenTelemetry provider connects when the app is built.
            Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
        }

        var app = builder.Build();
        if (kind == "otel")
        {
            app.MapPrometheusScrapingEndpoint();
        }
        else
        {
            app.MapMetrics();
        }

        await app.StartAsync().ConfigureAwait(false);

        // Recorded once the exporter listens (either drops what was recorded before its listener connected).
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < clusters; i++)
        {
            var cluster = $"cluster-{i:D2}";
            metrics.BackupSucceeded(cluster, now.AddMinutes(-i), TimeSpan.FromSeconds(3 + i), 1_000_000 + i);
            metrics.BackupFailed(cluster, "capture", now.AddMinutes(-2 * i), TimeSpan.FromSeconds(1));
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        var first = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).ConfigureAwait(false);
        self.Refresh();
        var firstScrape = (DateTime.Now - self.StartTime).TotalMilliseconds;
        var cpu = self.TotalProcessorTime.TotalMilliseconds;
        if (!first.Contains("cluster-00", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{kind}: the first scrape lacks the instruments:\n{first}");
        }

        var perScrape = new List<long>(scrapes);
        var size = 0;
        for (var i = 0; i < scrapes; i++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var body = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).ConfigureAwait(false);
            perScrape.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
            size = body.Length;
        }

        perScrape.Sort();
        if (Environment.GetEnvironmentVariable("EXPORTER_BENCH_DUMP") is { Length: > 0 } dump)
        {
            await File.WriteAllTextAsync(dump, first).ConfigureAwait(false);
        }

        self.Refresh();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            kind,
            firstScrapeMs = firstScrape,
            cpuMs = cpu,
            allocPerScrape = perScrape[perScrape.Count / 2],
            responseBytes = size,
            workingSetMb = self.WorkingSet64 / 1048576.0,
        }));
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        return 0;
    }
}
