using System.Text.Json;
using EtcdServerless.Testing.Etcd;
using Microsoft.Extensions.Time.Testing;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary><c>backup status</c> on a real backup, with the clock moved by a fake time provider.</summary>
[Trait("Category", "Cli")]
public sealed class BackupStatusCommandTests
{
    [Fact]
    public async Task Status_ScheduleStops_FreshThenStaleAndExitOne()
    {
        // Arrange: one real backup, a 15-minute schedule (so stale after 30 minutes).
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/k", "v");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls }, schedule: "0 */15 * * * *");
        var run = await Cli.RunAsync("backup", "run", "--config", config, "-o", "json");
        Assert.True(run.ExitCode == 0, run.Err);
        using var result = JsonDocument.Parse(run.Out);
        var created = result.RootElement.GetProperty("manifest").GetProperty("created").GetDateTimeOffset();
        var backupId = result.RootElement.GetProperty("manifest").GetProperty("backupId").GetString();
        var clock = new FakeTimeProvider(created.AddMinutes(10));

        // Act
        var fresh = await RunAsync(clock, "backup", "status", "--config", config, "-o", "json");
        clock.Advance(TimeSpan.FromMinutes(25));
        var stale = await RunAsync(clock, "backup", "status", "--config", config, "-o", "json");
        var staleTable = await RunAsync(clock, "backup", "status", "--config", config);

        // Assert
        Assert.True(fresh.ExitCode == 0, fresh.Err);
        using var freshJson = JsonDocument.Parse(fresh.Out);
        var lab = freshJson.RootElement[0];
        Assert.Equal("Fresh", lab.GetProperty("state").GetString());
        Assert.Equal(backupId, lab.GetProperty("lastBackup").GetProperty("backupId").GetString());
        Assert.Equal(600, lab.GetProperty("lastBackup").GetProperty("ageSeconds").GetInt64());
        Assert.Equal(1800, lab.GetProperty("maxAgeSeconds").GetInt64());
        Assert.Equal("2x schedule", lab.GetProperty("maxAgeSource").GetString());
        var at = created.AddMinutes(10).UtcDateTime;
        var quarter = new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, at.Minute / 15 * 15, 0, TimeSpan.Zero).AddMinutes(15);
        Assert.Equal(quarter, lab.GetProperty("nextScheduledRun").GetDateTimeOffset());

        Assert.Equal(1, stale.ExitCode);
        using var staleJson = JsonDocument.Parse(stale.Out);
        Assert.Equal("Stale", staleJson.RootElement[0].GetProperty("state").GetString());
        Assert.StartsWith("error: stale: lab: newest backup is 35m00s old, more than 30m00s", stale.Err, StringComparison.Ordinal);
        Assert.Equal(1, staleTable.ExitCode);
        Assert.Contains("stale", staleTable.Out, StringComparison.Ordinal);
        Assert.Contains("30m00s (2x schedule)", staleTable.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_BackupAgainstUnreachableEtcdThenGoodBackupAndDrill_ShowsLastFailureAndLastDrill()
    {
        // Arrange: one store; the cluster first configured with an endpoint nothing listens on, then with the real one.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/k", "v");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var down = WriteConfig(env, "down.json", [$"http://127.0.0.1:{EtcdServerless.Testing.Infrastructure.FreePorts.Next()}"]);
        var up = WriteConfig(env, "up.json", cluster.ClientUrls);

        // Act 1: the failed backup.
        var failed = await Cli.RunAsync("backup", "run", "--config", down);
        var afterFailure = await Cli.RunAsync("backup", "status", "--config", down, "-o", "json");
        var afterFailureTable = await Cli.RunAsync("backup", "status", "--config", down);

        // Assert 1: the failure is on record (one write-once object outside the cluster's backup folders) and shown.
        Assert.NotEqual(0, failed.ExitCode);
        // (The local store keeps its metadata in hidden files beside each object.)
        var records = Directory.GetFiles(Path.Combine(env.StoreDir, "_failures", "lab"), "*.json", SearchOption.AllDirectories)
            .Where(f => !Path.GetFileName(f).StartsWith('.')).ToList();
        Assert.Single(records);
        Assert.Equal(1, afterFailure.ExitCode);
        using (var json = JsonDocument.Parse(afterFailure.Out))
        {
            var lab = json.RootElement[0];
            Assert.Equal("Stale", lab.GetProperty("state").GetString());
            var failure = lab.GetProperty("lastFailure");
            Assert.Equal("capture", failure.GetProperty("phase").GetString());
            Assert.Equal("OnDemand", failure.GetProperty("trigger").GetString());
            var reason = failure.GetProperty("reason").GetString();
            Assert.False(string.IsNullOrWhiteSpace(reason));
            Assert.Contains($"failed in capture: {reason}", failed.Err, StringComparison.Ordinal);
            Assert.Contains("unreachable", reason, StringComparison.Ordinal);
            Assert.True(lab.GetProperty("failingSinceLastSuccess").GetBoolean());
            Assert.False(lab.TryGetProperty("lastDrill", out var noDrill) && noDrill.ValueKind != JsonValueKind.Null);
        }

        Assert.Contains("lab: failing since the last good backup; last failure ", afterFailureTable.Out, StringComparison.Ordinal);
        Assert.Contains("(capture)", afterFailureTable.Out, StringComparison.Ordinal);

        // Act 2: a good backup and a restore drill of it.
        var run = await Cli.RunAsync("backup", "run", "--config", up, "-o", "json");
        Assert.True(run.ExitCode == 0, run.Err);
        var drill = await Cli.RunAsync("backup", "drill", "latest", "--config", up);
        Assert.True(drill.ExitCode == 0, drill.Err);
        var afterDrill = await Cli.RunAsync("backup", "status", "--config", up, "-o", "json");

        // Assert 2: fresh, the failure still listed but no longer current, the drill shown.
        Assert.True(afterDrill.ExitCode == 0, afterDrill.Err);
        using var good = JsonDocument.Parse(afterDrill.Out);
        using var runJson = JsonDocument.Parse(run.Out);
        var status = good.RootElement[0];
        Assert.Equal("Fresh", status.GetProperty("state").GetString());
        Assert.Equal("capture", status.GetProperty("lastFailure").GetProperty("phase").GetString());
        Assert.False(status.GetProperty("failingSinceLastSuccess").GetBoolean());
        Assert.Equal("passed", status.GetProperty("lastDrill").GetProperty("outcome").GetString());
        Assert.Equal(runJson.RootElement.GetProperty("manifest").GetProperty("backupId").GetString(), status.GetProperty("lastDrill").GetProperty("backupId").GetString());
    }

    private static string WriteConfig(CliTestEnvironment env, string file, IReadOnlyList<string> endpoints)
    {
        var path = env.Combine(file);
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(env.StoreDir).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            Clusters = new { lab = new { Endpoints = endpoints, Schedule = "0 */15 * * * *" } },
        }));
        return path;
    }

    [Fact]
    public async Task Status_MaxAgeAndClusterWithoutBackup_StaleNamesIt()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.Combine("status.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(env.StoreDir).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            Clusters = new Dictionary<string, object>
            {
                ["empty"] = new { Endpoints = new[] { "http://127.0.0.1:1" }, MaxAge = "01:00:00" },
                ["manual"] = new { Endpoints = new[] { "http://127.0.0.1:1" } },
            },
        }));

        var all = await RunAsync(new FakeTimeProvider(), "backup", "status", "--config", config);
        var manual = await RunAsync(new FakeTimeProvider(), "backup", "status", "--config", config, "--cluster", "manual");

        Assert.Equal(1, all.ExitCode);
        Assert.Equal("error: stale: empty: no backup yet", all.Err.TrimEnd());
        Assert.Contains("unmonitored", all.Out, StringComparison.Ordinal);
        Assert.True(manual.ExitCode == 0, manual.Err);
    }

    [Fact]
    public async Task Status_NonPositiveMaxAge_ConfigurationErrorNamesTheKey()
    {
        using var env = new CliTestEnvironment();
        var config = env.Combine("bad.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(env.StoreDir).AbsoluteUri },
            Keys = new { Uri = new Uri(env.KeysDir).AbsoluteUri },
            Clusters = new { lab = new { Endpoints = new[] { "http://127.0.0.1:1" }, MaxAge = "-00:05:00" } },
        }));

        var status = await Cli.RunAsync("backup", "status", "--config", config);

        Assert.NotEqual(0, status.ExitCode);
        Assert.Contains("Clusters:lab:MaxAge", status.Err, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Out, string Err)> RunAsync(TimeProvider clock, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, new CliConsole(stdout, stderr) { Time = clock });
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
