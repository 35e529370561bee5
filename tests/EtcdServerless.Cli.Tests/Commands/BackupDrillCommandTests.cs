using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using EtcdServerless.Core.Drills;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>
/// <c>backup drill</c> through the real CLI: backups of a real etcd in the local store, restored with the installed
/// etcdctl/etcdutl and served by a throwaway real etcd; damaged artifacts and wrong keys fail at the named check.
/// </summary>
[Trait("Category", "Cli")]
[UnsupportedOSPlatform("windows")]
public sealed class BackupDrillCommandTests : IClassFixture<BackupDrillCommandTests.Fixture>
{
    private static readonly string[] s_allChecks = ["decrypt", "snapshot", "restore", "start", "revision", "keys", "hashkv", "sample", "stop"];

    private readonly Fixture _f;

    public BackupDrillCommandTests(Fixture fixture) => _f = fixture;

    [Fact]
    public async Task Drill_GoodBackup_EveryCheckPassesRecordedAndDescribed()
    {
        var before = DrillFolders();

        var drill = await Cli.RunAsync("backup", "drill", "latest", "--config", _f.Config, "-o", "json");

        Assert.True(drill.ExitCode == 0, drill.Err);
        using var json = JsonDocument.Parse(drill.Out);
        var result = json.RootElement.GetProperty("drill");
        Assert.Equal("passed", result.GetProperty("outcome").GetString());
        var checks = result.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(s_allChecks, checks.Select(c => c.GetProperty("name").GetString()));
        Assert.All(checks, c => Assert.True(c.GetProperty("passed").GetBoolean(), c.ToString()));

        // The revision and HashKV the drill expected are the source cluster's own at the backup's revision.
        var revision = long.Parse(Check(checks, "revision").GetProperty("actual").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(_f.BackupRevision, revision);
        using var hashkv = JsonDocument.Parse(await _f.Etcd.EtcdCtlAsync("endpoint", "hashkv", $"--rev={_f.BackupRevision}", "-w", "json"));
        var liveHash = hashkv.RootElement[0].GetProperty("HashKV").GetProperty("hash").GetUInt32();
        Assert.Equal(liveHash.ToString(CultureInfo.InvariantCulture), Check(checks, "hashkv").GetProperty("expected").GetString());
        Assert.Equal(_f.LiveKeyCount.ToString(CultureInfo.InvariantCulture), Check(checks, "keys").GetProperty("actual").GetString());

        // The record sits beside the manifest, and describe shows it.
        var record = json.RootElement.GetProperty("record").GetString()!;
        Assert.EndsWith(".json", record, StringComparison.Ordinal);
        Assert.Contains($"{_f.BackupId}.drill-", record, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_f.Env.StoreDir, record)));
        var describe = await Cli.RunAsync("backup", "describe", _f.BackupId, "--config", _f.Config);
        Assert.True(describe.ExitCode == 0, describe.Err);
        Assert.Contains("last drill:      passed ", describe.Out, StringComparison.Ordinal);
        var describeJson = await Cli.RunAsync("backup", "describe", _f.BackupId, "--config", _f.Config, "-o", "json");
        using var described = JsonDocument.Parse(describeJson.Out);
        Assert.Equal(_f.BackupId, described.RootElement.GetProperty("backupId").GetString());
        Assert.Equal("passed", described.RootElement.GetProperty("lastDrill").GetProperty("outcome").GetString());
        var list = await Cli.RunAsync("backup", "list", "--config", _f.Config, "-o", "json");
        using var listed = JsonDocument.Parse(list.Out);
        var entry = Assert.Single(listed.RootElement.EnumerateArray(), e => e.GetProperty("backupId").GetString() == _f.BackupId);
        Assert.Equal("passed", entry.GetProperty("lastDrill").GetProperty("outcome").GetString());
        Assert.Empty(DrillFolders().Except(before));
    }

    [Fact]
    public async Task Drill_Table_ListsEveryCheckAndOutcome()
    {
        var drill = await Cli.RunAsync("backup", "drill", _f.BackupId, "--config", _f.Config);

        Assert.True(drill.ExitCode == 0, drill.Err);
        var lines = drill.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("CHECK", lines[0], StringComparison.Ordinal);
        foreach (var check in s_allChecks)
        {
            Assert.Contains(lines, l => l.StartsWith(check + " ", StringComparison.Ordinal) && l.Contains(" ok ", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith($"drill passed: lab/{_f.BackupId}, 9/9 checks passed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Drill_DamagedArtifact_FailsAtDecryptExitOneLoggedRecordedNoScratchLeft()
    {
        using var env = new CliTestEnvironment();
        var config = await env.BackupWithTamperedArtifactAsync(_f.Etcd.ClientUrls);
        var before = DrillFolders();

        var drill = await Cli.RunAsync("backup", "drill", "latest", "--config", config, "-o", "json");

        Assert.Equal(1, drill.ExitCode);
        using var json = JsonDocument.Parse(drill.Out);
        var result = json.RootElement.GetProperty("drill");
        Assert.Equal("failed", result.GetProperty("outcome").GetString());
        var check = Assert.Single(result.GetProperty("checks").EnumerateArray());
        Assert.Equal("decrypt", check.GetProperty("name").GetString());
        Assert.False(check.GetProperty("passed").GetBoolean());
        var errorLine = Assert.Single(drill.Err.Split('\n'), l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("failed at check decrypt", errorLine, StringComparison.Ordinal);
        Assert.Empty(DrillFolders().Except(before));
        var describe = await Cli.RunAsync("backup", "describe", Id(json), "--config", config);
        Assert.Contains("last drill:      FAILED ", describe.Out, StringComparison.Ordinal);
        Assert.Contains("at check decrypt", describe.Out, StringComparison.Ordinal);
        var list = await Cli.RunAsync("backup", "list", "--config", config);
        Assert.Contains(list.Out.Split('\n'), l => l.Contains(Id(json), StringComparison.Ordinal) && l.Contains(" failed 20", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Drill_WrongKey_FailsAtDecryptNamingTheKey()
    {
        using var other = new CliTestEnvironment();
        await other.InitializeKeysAsync();
        var config = other.Combine("wrong-key.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(_f.Env.StoreDir).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(other.KeysDir).AbsoluteUri },
            Clusters = new { lab = new { Endpoints = _f.Etcd.ClientUrls } },
        }));
        var before = DrillFolders();

        var drill = await Cli.RunAsync("backup", "drill", _f.BackupId, "--config", config, "-o", "json");

        Assert.Equal(1, drill.ExitCode);
        using var json = JsonDocument.Parse(drill.Out);
        var check = Assert.Single(json.RootElement.GetProperty("drill").GetProperty("checks").EnumerateArray());
        Assert.Equal("decrypt", check.GetProperty("name").GetString());
        Assert.False(check.GetProperty("passed").GetBoolean());
        Assert.Contains("key", check.GetProperty("detail").GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(DrillFolders().Except(before));
    }

    [Fact]
    public async Task Drill_NoRestoreTool_FailsAtRestoreAndRemovesThePlaintext()
    {
        var store = new EtcdServerless.Core.Storage.LocalDirectoryBackupStore(_f.Env.StoreDir);
        var keys = new EtcdServerless.Core.Keys.LocalKeyStore(_f.Env.KeysDir);
        var manifest = await new EtcdServerless.Core.Catalog.BackupCatalog(store).GetAsync("lab", _f.BackupId);
        var root = _f.Env.Combine($"tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var drill = new BackupDrill(store, keys, new DrillOptions { EtcdutlPath = "/nonexistent/etcdutl", EtcdctlPath = "/nonexistent/etcdctl", TempDirectory = root });

        var result = await drill.RunAsync(manifest);

        Assert.False(result.Passed);
        Assert.Equal(["decrypt", "snapshot", "restore"], result.Checks.Select(c => c.Name));
        Assert.Equal("restore", result.FirstFailure!.Name);
        Assert.Contains("was found", result.FirstFailure.Detail, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public async Task Drill_ScratchDuringRestore_Folder0700Plaintext0600ThenRemoved()
    {
        var (store, keys, manifest) = await OpenAsync();
        var root = _f.Env.Combine($"tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var seen = _f.Env.Combine($"modes-{Guid.NewGuid():N}.txt");

        // A stand-in restore tool that reports the modes it finds, then fails: $3 is the plaintext, $5 the data dir.
        var tool = _f.Env.Combine($"fake-etcdutl-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(tool, $"#!/bin/sh\nstat -c %a \"$3\" \"$(dirname \"$3\")\" \"$(dirname \"$5\")\" > '{seen}'\nexit 3\n");
        File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var drill = new BackupDrill(store, keys, new DrillOptions { EtcdutlPath = tool, TempDirectory = root });

        var result = await drill.RunAsync(manifest);

        Assert.Equal(["600", "700", "700"], (await File.ReadAllTextAsync(seen)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("restore", result.FirstFailure!.Name);
        Assert.Contains("exited with 3", result.FirstFailure.Detail, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public async Task Drill_MemberCannotStart_FailsAtStartAndRemovesTheRestoredDataDir()
    {
        var (store, keys, manifest) = await OpenAsync();
        var root = _f.Env.Combine($"tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var drill = new BackupDrill(store, keys, new DrillOptions { EtcdPath = "/bin/false", TempDirectory = root });

        var result = await drill.RunAsync(manifest);

        Assert.Equal(["decrypt", "snapshot", "restore", "start"], result.Checks.Select(c => c.Name));
        Assert.Equal("start", result.FirstFailure!.Name);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    private async Task<(EtcdServerless.Core.Storage.LocalDirectoryBackupStore, EtcdServerless.Core.Keys.LocalKeyStore, EtcdServerless.Core.Catalog.BackupManifest)> OpenAsync()
    {
        var store = new EtcdServerless.Core.Storage.LocalDirectoryBackupStore(_f.Env.StoreDir);
        var keys = new EtcdServerless.Core.Keys.LocalKeyStore(_f.Env.KeysDir);
        return (store, keys, await new EtcdServerless.Core.Catalog.BackupCatalog(store).GetAsync("lab", _f.BackupId));
    }

    private static JsonElement Check(List<JsonElement> checks, string name) => checks.Single(c => c.GetProperty("name").GetString() == name);

    private static string Id(JsonDocument json) => json.RootElement.GetProperty("drill").GetProperty("backupId").GetString()!;

    private static HashSet<string> DrillFolders() =>
        [.. Directory.GetDirectories(Path.GetTempPath(), BackupDrill.FolderPrefix + "*")];

    public sealed class Fixture : IAsyncLifetime
    {
        public EtcdTestCluster Etcd { get; private set; } = null!;

        internal CliTestEnvironment Env { get; } = new();

        public string Config { get; private set; } = "";

        public string BackupId { get; private set; } = "";

        public long BackupRevision { get; private set; }

        public int LiveKeyCount { get; private set; }

        public async Task InitializeAsync()
        {
            Etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
            await Env.InitializeKeysAsync();
            Config = Env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = Etcd.ClientUrls });

            // History worth drilling: overwrites, a deletion, a lease, a compaction, then more writes after it.
            for (var i = 0; i < 40; i++)
            {
                await Etcd.EtcdCtlAsync("put", $"/app/key-{i:D3}", $"value-{i}");
            }

            await Etcd.EtcdCtlAsync("put", "/app/key-000", "rewritten");
            await Etcd.EtcdCtlAsync("del", "/app/key-001");
            var lease = (await Etcd.EtcdCtlAsync("lease", "grant", "3600")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            await Etcd.EtcdCtlAsync("put", "/leased", "l", $"--lease={lease}");
            using (var doc = JsonDocument.Parse(await Etcd.EtcdCtlAsync("get", "/leased", "-w", "json")))
            {
                await Etcd.EtcdCtlAsync("compact", doc.RootElement.GetProperty("header").GetProperty("revision").GetInt64().ToString(CultureInfo.InvariantCulture));
            }

            await Etcd.EtcdCtlAsync("put", "/app/key-002", "after-compaction");
            await Etcd.EtcdCtlAsync("del", "/app/key-003");
            LiveKeyCount = 40 - 2 + 1;

            var run = await Cli.RunAsync("backup", "run", "--config", Config, "-o", "json");
            Assert.True(run.ExitCode == 0, run.Err);
            using var json = JsonDocument.Parse(run.Out);
            var manifest = json.RootElement.GetProperty("manifest");
            BackupId = manifest.GetProperty("backupId").GetString()!;
            BackupRevision = manifest.GetProperty("snapshot").GetProperty("revision").GetInt64();
        }

        public async Task DisposeAsync()
        {
            await Etcd.DisposeAsync();
            Env.Dispose();
        }
    }
}
