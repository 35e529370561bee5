using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>
/// Where a delta chain starts and what breaks it, against a real etcd: with no full backup the first run takes one;
/// history compacted before it was captured is reported as a gap, a full backup is taken at once, and the chain
/// restarts from that backup's exact snapshot revision.
/// </summary>
[Trait("Category", "Cli")]
[UnsupportedOSPlatform("windows")]
public sealed class BackupDeltasGapTests : IAsyncLifetime
{
    private readonly CliTestEnvironment _env = new();
    private EtcdTestCluster _etcd = null!;
    private string _config = "";

    public async Task InitializeAsync()
    {
        _etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await _env.InitializeKeysAsync();
        _config = _env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = _etcd.ClientUrls });
    }

    public async Task DisposeAsync()
    {
        await _etcd.DisposeAsync();
        _env.Dispose();
    }

    [Fact]
    public async Task Deltas_NoFullBackupYet_TakesOneAndTheChainStartsAtItsExactRevision()
    {
        await _etcd.EtcdCtlAsync("put", "/k", "1");

        var first = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", _config, "-o", "json");

        Assert.True(first.ExitCode == 0, first.Err);
        Assert.Contains("note: no full backup to start the delta chain from of 'lab'; taking a full backup now", first.Err, StringComparison.Ordinal);
        var backups = Manifests();
        var full = Assert.Single(backups);
        await _etcd.EtcdCtlAsync("put", "/k", "2");

        var second = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", _config, "-o", "json");

        Assert.True(second.ExitCode == 0, second.Err);
        using var json = JsonDocument.Parse(second.Out);
        var segment = json.RootElement.GetProperty("capture").GetProperty("segment");
        Assert.Equal(full.Revision + 1, segment.GetProperty("fromRevision").GetInt64());
        Assert.Equal(full.Id, segment.GetProperty("baseBackupId").GetString());
    }

    [Fact]
    public async Task Deltas_HistoryCompactedBeforeCapture_GapReportedFullBackupTakenChainRestarts()
    {
        await _etcd.EtcdCtlAsync("put", "/k", "1");
        var run = await Cli.RunAsync("backup", "run", "--config", _config);
        Assert.True(run.ExitCode == 0, run.Err);
        await _etcd.EtcdCtlAsync("put", "/k", "2");
        await _etcd.EtcdCtlAsync("put", "/k", "3");
        await _etcd.EtcdCtlAsync("compact", (await RevisionAsync()).ToString(CultureInfo.InvariantCulture));

        var gap = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", _config, "-o", "json");

        Assert.Equal(1, gap.ExitCode);
        Assert.Contains("error: delta chain of 'lab' is broken: revision", gap.Err, StringComparison.Ordinal);
        Assert.Contains("was compacted", gap.Err, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(gap.Out))
        {
            Assert.True(json.RootElement.GetProperty("capture").GetProperty("gapDetected").GetBoolean());
            Assert.NotNull(json.RootElement.GetProperty("fullBackupId").GetString());
        }

        var backups = Manifests();
        Assert.Equal(2, backups.Count);
        await _etcd.EtcdCtlAsync("put", "/k", "4");

        var after = await Cli.RunAsync("backup", "deltas", "--cluster", "lab", "--config", _config, "-o", "json");

        Assert.True(after.ExitCode == 0, after.Err);
        using var next = JsonDocument.Parse(after.Out);
        var segment = next.RootElement.GetProperty("capture").GetProperty("segment");
        var newest = backups.MaxBy(b => b.Revision);
        Assert.Equal(newest.Revision + 1, segment.GetProperty("fromRevision").GetInt64());
        Assert.Equal(newest.Id, segment.GetProperty("baseBackupId").GetString());
    }

    private List<(string Id, long Revision)> Manifests() =>
        [.. Directory.GetFiles(_env.StoreDir, "*.manifest.json", SearchOption.AllDirectories).Select(f =>
        {
            using var json = JsonDocument.Parse(File.ReadAllText(f));
            return (json.RootElement.GetProperty("backupId").GetString()!, json.RootElement.GetProperty("snapshot").GetProperty("revision").GetInt64());
        })];

    private async Task<long> RevisionAsync()
    {
        using var json = JsonDocument.Parse(await _etcd.EtcdCtlAsync("get", "/k", "-w", "json"));
        return json.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }
}
