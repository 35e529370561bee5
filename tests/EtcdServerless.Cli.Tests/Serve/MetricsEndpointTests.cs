using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests.Serve;

/// <summary>
/// <c>/metrics</c> of a running <c>serve</c> (its own process, so its meter is its own): a real backup of a real etcd
/// into a local store and a real failed one, then the scrape checked by Prometheus's own parser and linter
/// (<c>promtool check metrics</c>, Debian's <c>prometheus</c> package; a missing promtool fails the test).
/// </summary>
[Trait("Category", "Cli")]
public sealed partial class MetricsEndpointTests
{
    private const string ApiKey = "metrics-test-key-0123456789abcdefghijklmn";

    [Fact]
    public async Task Metrics_AfterRealBackupAndFailure_PromtoolAcceptsAndValuesMatchTheStore()
    {
        var promtool = RequiredTool.Find("promtool", "apt-get install prometheus (Debian's package ships promtool; .ci/run installs it)");
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/k", "v");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.Combine("serve.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(env.StoreDir).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            Clusters = new Dictionary<string, object>
            {
                ["lab"] = new { Endpoints = cluster.ClientUrls, MaxAge = "01:00:00" },
                ["down"] = new { Endpoints = new[] { $"http://127.0.0.1:{FreePorts.Next()}" }, MaxAge = "01:00:00" },
            },
            Api = new { Urls = "http://127.0.0.1:0", MetricsUrls = "http://127.0.0.1:0", ApiKey },
        }));

        await using var serve = await ServeProcess.StartAsync(config);
        using var http = new HttpClient { BaseAddress = serve.ApiUrl };
        var lab = await RunBackupAsync(http, "lab");
        var down = await RunBackupAsync(http, "down");
        Assert.True(lab.GetProperty("succeeded").GetBoolean(), lab.ToString());
        Assert.False(down.GetProperty("succeeded").GetBoolean(), down.ToString());
        var manifest = lab.GetProperty("manifest");

        using var noKey = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        using var withKey = await http.SendAsync(bearer);
        using var privateHttp = new HttpClient { BaseAddress = serve.MetricsUrl };
        var scrape = await privateHttp.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        // The API's listener wants the key; the private listener does not, and serves nothing else.
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal("application/problem+json", noKey.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.StartsWith("text/plain", withKey.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        using (var api = await privateHttp.GetAsync(new Uri("/api/clusters/lab/backups", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        }

        var check = await RunAsync(promtool, scrape, "check", "metrics");
        Assert.True(check.ExitCode == 0, $"promtool check metrics: exit {check.ExitCode}\n{check.Output}\n{scrape}");

        var created = manifest.GetProperty("created").GetDateTimeOffset();
        Assert.Equal(created.ToUnixTimeMilliseconds() / 1000.0, Sample(scrape, "etcd_backup_last_success_timestamp_seconds", "cluster=\"lab\""));
        Assert.Equal(manifest.GetProperty("artifact").GetProperty("size").GetInt64(), Sample(scrape, "etcd_backup_artifact_size_bytes", "cluster=\"lab\""));
        Assert.Equal(1, Sample(scrape, "etcd_backup_duration_seconds_count", "cluster=\"lab\",outcome=\"succeeded\""));
        Assert.True(Sample(scrape, "etcd_backup_duration_seconds_sum", "cluster=\"lab\",outcome=\"succeeded\"") > 0);
        Assert.Equal(0, Sample(scrape, "etcd_backup_stale", "cluster=\"lab\""));
        Assert.Equal(1, Sample(scrape, "etcd_backup_failures_total", "cluster=\"down\",phase=\"capture\""));
        Assert.Equal(1, Sample(scrape, "etcd_backup_stale", "cluster=\"down\""));
        Assert.True(Sample(scrape, "etcd_backup_last_failure_timestamp_seconds", "cluster=\"down\"") >= created.ToUnixTimeSeconds() - 1);
        Assert.DoesNotContain("cluster=\"down\"", string.Join('\n', scrape.Split('\n').Where(l => l.StartsWith("etcd_backup_last_success", StringComparison.Ordinal))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promtool_BrokenExposition_IsRejected()
    {
        // The check above is only worth something if promtool refuses what is not Prometheus text.
        var promtool = RequiredTool.Find("promtool", "apt-get install prometheus");

        var broken = await RunAsync(promtool, "etcd_backup_stale{cluster=\"lab\" 1\n", "check", "metrics");
        var unlinted = await RunAsync(promtool, "# TYPE etcd_backup_failures counter\netcd_backup_failures 1\n", "check", "metrics");

        Assert.NotEqual(0, broken.ExitCode);
        Assert.NotEqual(0, unlinted.ExitCode);
    }

    private static async Task<JsonElement> RunBackupAsync(HttpClient http, string cluster)
    {
        using var start = new HttpRequestMessage(HttpMethod.Post, $"/api/clusters/{cluster}/backups");
        start.Headers.Add("x-api-key", ApiKey);
        using var started = await http.SendAsync(start);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        using var body = JsonDocument.Parse(await started.Content.ReadAsStringAsync());
        var status = new Uri(body.RootElement.GetProperty("statusQueryGetUri").GetString()!);

        // Polls until the instance ends; the guard only stops a hung test.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            using var poll = new HttpRequestMessage(HttpMethod.Get, status);
            poll.Headers.Add("x-api-key", ApiKey);
            using var response = await http.SendAsync(poll, guard.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var done = JsonDocument.Parse(await response.Content.ReadAsStringAsync(guard.Token));
                Assert.Equal("Completed", done.RootElement.GetProperty("runtimeStatus").GetString());
                return done.RootElement.GetProperty("output").Clone();
            }

            await Task.Delay(200, guard.Token);
        }
    }

    // One sample's value by metric name and its exact label set (OpenTelemetry writes labels in a stable order).
    private static double Sample(string scrape, string name, string labels)
    {
        var prefix = $"{name}{{{labels}}} ";
        var line = scrape.Split('\n').SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no sample {prefix.TrimEnd()} in:\n{scrape}");
        return double.Parse(line[prefix.Length..].Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string tool, string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary><c>etcd-backup serve</c> as a child process; its URLs come from its "serving on" line.</summary>
    private sealed partial class ServeProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private ServeProcess(Process process, Uri api, Uri metrics)
        {
            _process = process;
            ApiUrl = api;
            MetricsUrl = metrics;
        }

        public Uri ApiUrl { get; }

        public Uri MetricsUrl { get; }

        public static async Task<ServeProcess> StartAsync(string config)
        {
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "etcd-backup.dll"));
            foreach (var arg in new[] { "serve", "--config", config })
            {
                psi.ArgumentList.Add(arg);
            }

            var process = Process.Start(psi)!;
            _ = process.StandardOutput.ReadToEndAsync();
            using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var seen = new List<string>();
            while (await process.StandardError.ReadLineAsync(guard.Token) is { } line)
            {
                seen.Add(line);
                var match = ServingLine().Match(line);
                if (match.Success)
                {
                    // Keep draining stderr so the child never blocks on a full pipe.
                    _ = process.StandardError.ReadToEndAsync();
                    return new ServeProcess(process, new Uri(match.Groups["api"].Value), new Uri(match.Groups["metrics"].Value));
                }
            }

            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw new InvalidOperationException("serve did not start:\n" + string.Join('\n', seen));
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        [GeneratedRegex(@"^serving on (?<api>http://[^,; ]+).*metrics without key on (?<metrics>http://[^,; ]+)")]
        private static partial Regex ServingLine();
    }
}
