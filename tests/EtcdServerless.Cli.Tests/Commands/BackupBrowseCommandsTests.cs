using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EtcdServerless.Core.Browse;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>
/// <c>backup ls|get|diff|export</c> through the real CLI against backups of a real etcd in the local store, checked
/// against <c>etcdctl get --prefix -w json</c> at each backup's revision.
/// </summary>
[Trait("Category", "Cli")]
[UnsupportedOSPlatform("windows")]
public sealed class BackupBrowseCommandsTests : IClassFixture<BackupBrowseCommandsTests.Fixture>
{
    private readonly Fixture _f;

    public BackupBrowseCommandsTests(Fixture fixture) => _f = fixture;

    [Fact]
    public async Task Ls_Json_EqualsEtcdctlGetAtTheBackupRevision()
    {
        foreach (var (backupId, revision) in new[] { (_f.First, _f.FirstRevision), (_f.Second, _f.SecondRevision) })
        {
            var ls = await Cli.RunAsync("backup", "ls", backupId, "--config", _f.Config, "-o", "json");

            Assert.True(ls.ExitCode == 0, ls.Err);
            using var json = JsonDocument.Parse(ls.Out);
            Assert.Equal(revision, json.RootElement.GetProperty("revision").GetInt64());
            var expected = await _f.EtcdctlGetAsync("", revision);
            var actual = json.RootElement.GetProperty("keys").EnumerateArray()
                .Select(k => (k.GetProperty("key").GetString()!, k.GetProperty("createRevision").GetInt64(), k.GetProperty("modRevision").GetInt64(),
                    k.GetProperty("version").GetInt64(), k.GetProperty("lease").GetInt64(), k.GetProperty("valueSize").GetInt32()))
                .ToList();
            Assert.Equal(expected.Select(e => (e.Key, e.Create, e.Mod, e.Version, e.Lease, e.Value.Length)), actual);
        }
    }

    [Fact]
    public async Task Ls_PrefixTable_OnlyThosKeysWithKubernetesKind()
    {
        var ls = await Cli.RunAsync("backup", "ls", "latest", "--config", _f.Config, "--prefix", "/registry/");

        Assert.True(ls.ExitCode == 0, ls.Err);
        var lines = ls.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("KEY", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith("/registry/pods/default/web ", StringComparison.Ordinal) && l.EndsWith("v1/Pod", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("/a ", StringComparison.Ordinal));
        var expected = await _f.EtcdctlGetAsync("/registry/", _f.SecondRevision);
        Assert.Equal($"{expected.Count} key(s) at revision {_f.SecondRevision}", lines[^1]);
    }

    [Fact]
    public async Task Get_EveryKeyOfTheFirstBackup_JsonValueEqualsEtcdctl()
    {
        foreach (var expected in await _f.EtcdctlGetAsync("", _f.FirstRevision))
        {
            var get = await Cli.RunAsync("backup", "get", _f.First, expected.Key, "--config", _f.Config, "-o", "json");

            Assert.True(get.ExitCode == 0, get.Err);
            using var json = JsonDocument.Parse(get.Out);
            var root = json.RootElement;
            Assert.Equal(expected.Value, root.GetProperty("value").GetBytesFromBase64());
            Assert.Equal((expected.Create, expected.Mod, expected.Version, expected.Lease),
                (root.GetProperty("createRevision").GetInt64(), root.GetProperty("modRevision").GetInt64(), root.GetProperty("version").GetInt64(), root.GetProperty("lease").GetInt64()));
        }
    }

    [Fact]
    public async Task Get_Raw_BytesPutBackWithEtcdctlRoundTrip()
    {
        using var raw = new MemoryStream();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var exit = await CliApplication.RunAsync(["backup", "get", _f.First, "/registry/pods/default/web", "--config", _f.Config, "-o", "raw"],
            new CliConsole(stdout, stderr) { RawOut = raw });

        Assert.True(exit == 0, stderr.ToString());
        Assert.Equal(_f.PodValue, raw.ToArray());
        Assert.Equal("", stdout.ToString());

        // etcdctl put KEY < file puts the object back as it was.
        var file = _f.Directory.Combine("pod.bin");
        await File.WriteAllBytesAsync(file, raw.ToArray());
        await _f.Etcd.EtcdCtlStdinAsync(Encoding.Latin1.GetString(await File.ReadAllBytesAsync(file)), "put", "/restored/pod");
        var back = await _f.EtcdctlGetAsync("/restored/pod", null);
        Assert.Equal(_f.PodValue, Assert.Single(back).Value);
    }

    [Fact]
    public async Task Get_DeletedInSecondBackup_ExitOneWithOneLine()
    {
        var inFirst = await Cli.RunAsync("backup", "get", _f.First, "/to-delete", "--config", _f.Config);
        var inSecond = await Cli.RunAsync("backup", "get", _f.Second, "/to-delete", "--config", _f.Config);

        Assert.True(inFirst.ExitCode == 0, inFirst.Err);
        Assert.Contains("value:            doomed", inFirst.Out, StringComparison.Ordinal);
        Assert.Equal(1, inSecond.ExitCode);
        Assert.Equal($"error: key '/to-delete' does not exist in backup {_f.Second} (revision {_f.SecondRevision})", inSecond.Err.TrimEnd());
        Assert.Equal("", inSecond.Out);
    }

    [Fact]
    public async Task Diff_TwoBackups_AddedRemovedChangedLikeEtcdctl()
    {
        var diff = await Cli.RunAsync("backup", "diff", _f.First, _f.Second, "--config", _f.Config, "-o", "json");

        Assert.True(diff.ExitCode == 0, diff.Err);
        using var json = JsonDocument.Parse(diff.Out);
        var before = (await _f.EtcdctlGetAsync("", _f.FirstRevision)).ToDictionary(k => k.Key);
        var after = (await _f.EtcdctlGetAsync("", _f.SecondRevision)).ToDictionary(k => k.Key);
        string[] Keys(string name) => [.. json.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetProperty("key").GetString()!)];
        Assert.Equal(after.Keys.Except(before.Keys).Order(StringComparer.Ordinal), Keys("added"));
        Assert.Equal(before.Keys.Except(after.Keys).Order(StringComparer.Ordinal), Keys("removed"));
        var changed = after.Keys.Intersect(before.Keys).Where(k => before[k].Mod != after[k].Mod || before[k].Lease != after[k].Lease).Order(StringComparer.Ordinal);
        Assert.Equal(changed, Keys("changed"));
        var what = json.RootElement.GetProperty("changed").EnumerateArray().ToDictionary(e => e.GetProperty("key").GetString()!, e => string.Join(",", e.GetProperty("what").EnumerateArray().Select(w => w.GetString())));
        Assert.Equal("value", what["/a"]);
        Assert.Equal("value,recreated", what["/b"]);
        Assert.Equal("rewritten", what["/same"]);
        Assert.Equal("lease", what["/leased"]);
    }

    [Fact]
    public async Task Diff_PrefixTable_SummaryLine()
    {
        var diff = await Cli.RunAsync("backup", "diff", _f.First, "latest", "--config", _f.Config, "--prefix", "/registry/");

        Assert.True(diff.ExitCode == 0, diff.Err);
        Assert.Contains($"{_f.First} (revision {_f.FirstRevision}) -> {_f.Second} (revision {_f.SecondRevision}): 1 added, 0 removed, 0 changed", diff.Out, StringComparison.Ordinal);
        Assert.Contains("/registry/example.com/widgets/default/w1", diff.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_ByteIdenticalMode600AndEtcdctlRestoresIt()
    {
        var file = _f.Directory.Combine($"export-{Guid.NewGuid():N}.db");

        var export = await Cli.RunAsync("backup", "export", _f.First, "--config", _f.Config, "-o", file);

        Assert.True(export.ExitCode == 0, export.Err);
        Assert.Equal(_f.FirstSha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var dataDir = _f.Directory.Combine($"restored-{Guid.NewGuid():N}");
        await _f.Etcd.EtcdCtlOfflineAsync("snapshot", "restore", file, "--data-dir", dataDir);
        Assert.True(Directory.Exists(Path.Combine(dataDir, "member", "snap")));
        var status = JsonDocument.Parse(await _f.Etcd.EtcdCtlOfflineAsync("snapshot", "status", file, "-w", "json"));
        Assert.Equal(_f.FirstRevision, status.RootElement.GetProperty("revision").GetInt64());
    }

    [Fact]
    public async Task Export_ExistingFile_RefusedUnlessForce()
    {
        var file = _f.Directory.Combine($"existing-{Guid.NewGuid():N}.db");
        await File.WriteAllTextAsync(file, "keep me");

        var refused = await Cli.RunAsync("backup", "export", "latest", "--config", _f.Config, "-o", file);
        var forced = await Cli.RunAsync("backup", "export", "latest", "--config", _f.Config, "-o", file, "--force");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("already exists (use --force", refused.Err, StringComparison.Ordinal);
        Assert.True(forced.ExitCode == 0, forced.Err);
        Assert.Equal(_f.SecondSha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Verbs_LeaveNoPlaintextFolderBehind()
    {
        var before = BrowseFolders();

        await Cli.RunAsync("backup", "ls", "latest", "--config", _f.Config);
        await Cli.RunAsync("backup", "get", "latest", "/nope", "--config", _f.Config);
        await Cli.RunAsync("backup", "diff", _f.First, _f.Second, "--config", _f.Config);

        Assert.Empty(BrowseFolders().Except(before));
    }

    [Fact]
    public async Task DecryptedSnapshot_Open_Folder0700File0600DeletedOnDispose()
    {
        var manifest = await _f.FindAsync(_f.First);
        var store = new EtcdServerless.Core.Storage.LocalDirectoryBackupStore(_f.Env.StoreDir);
        var keys = new EtcdServerless.Core.Keys.LocalKeyStore(_f.Env.KeysDir);
        var root = _f.Directory.Combine($"tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);

        var snapshot = await DecryptedSnapshot.OpenAsync(store, keys, manifest, root);
        var folder = Path.GetDirectoryName(snapshot.Path)!;
        var folderMode = File.GetUnixFileMode(folder);
        var fileMode = File.GetUnixFileMode(snapshot.Path);
        snapshot.Dispose();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, folderMode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, fileMode);
        Assert.False(Directory.Exists(folder));
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public async Task Ls_TamperedArtifact_ExitOneOneLineAndNoFolderLeft()
    {
        using var env = new CliTestEnvironment();
        var config = await env.BackupWithTamperedArtifactAsync(_f.Etcd.ClientUrls);
        var before = BrowseFolders();

        var ls = await Cli.RunAsync("backup", "ls", "latest", "--config", config);

        Assert.Equal(1, ls.ExitCode);
        Assert.StartsWith("error: ", ls.Err, StringComparison.Ordinal);
        Assert.Single(ls.Err.TrimEnd().Split('\n'));
        Assert.Empty(BrowseFolders().Except(before));
    }

    [Fact]
    public async Task Ls_TwoClustersWithoutCluster_UsageErrorNamingThem()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["east"] = _f.Etcd.ClientUrls, ["west"] = _f.Etcd.ClientUrls });

        var ls = await Cli.RunAsync("backup", "ls", "latest", "--config", config);
        var withCluster = await Cli.RunAsync("backup", "ls", "latest", "--config", config, "--cluster", "west");

        Assert.Equal(2, ls.ExitCode);
        Assert.Equal("error: --cluster is required when more than one cluster is configured (east, west)", ls.Err.TrimEnd());
        Assert.Equal(1, withCluster.ExitCode);
        Assert.Contains("cluster 'west' has no backup", withCluster.Err, StringComparison.Ordinal);
    }

    private static HashSet<string> BrowseFolders() =>
        [.. Directory.GetDirectories(Path.GetTempPath(), DecryptedSnapshot.FolderPrefix + "*")];

    public sealed record Kv(string Key, long Create, long Mod, long Version, long Lease, byte[] Value);

    public sealed class Fixture : IAsyncLifetime
    {
        public EtcdTestCluster Etcd { get; private set; } = null!;

        internal CliTestEnvironment Env { get; } = new();

        public TempDirectory Directory { get; } = new("etcdsl-browse");

        public string Config { get; private set; } = "";

        public string First { get; private set; } = "";

        public string Second { get; private set; } = "";

        public long FirstRevision { get; private set; }

        public long SecondRevision { get; private set; }

        public string FirstSha256 { get; private set; } = "";

        public string SecondSha256 { get; private set; } = "";

        public byte[] PodValue { get; } = [.. "k8s\0"u8, 0x0a, 0x09, 0x0a, 0x02, .. "v1"u8, 0x12, 0x03, .. "Pod"u8, 0x12, 0x03, .. "raw"u8];

        public async Task InitializeAsync()
        {
            Etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
            await Env.InitializeKeysAsync();
            Config = Env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = Etcd.ClientUrls });

            foreach (var (key, value) in new[] { ("/a", "1"), ("/b", "1"), ("/to-delete", "doomed"), ("/same", "s"), ("/a", "2"), ("/gone", "g") })
            {
                await Etcd.EtcdCtlAsync("put", key, value);
            }

            await Etcd.EtcdCtlAsync("del", "/gone");
            var lease = (await Etcd.EtcdCtlAsync("lease", "grant", "3600")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            await Etcd.EtcdCtlAsync("put", "/leased", "l", $"--lease={lease}");
            await Etcd.EtcdCtlStdinAsync(Encoding.Latin1.GetString(PodValue), "put", "/registry/pods/default/web");
            var revision = Revision(await Etcd.EtcdCtlAsync("get", "/a", "-w", "json"));
            await Etcd.EtcdCtlAsync("compact", revision.ToString(CultureInfo.InvariantCulture));
            (First, FirstRevision, FirstSha256) = await BackupAsync();

            await Etcd.EtcdCtlAsync("put", "/a", "3");
            await Etcd.EtcdCtlAsync("del", "/b");
            await Etcd.EtcdCtlAsync("put", "/b", "reborn");
            await Etcd.EtcdCtlAsync("del", "/to-delete");
            await Etcd.EtcdCtlAsync("put", "/same", "s");
            await Etcd.EtcdCtlAsync("put", "/leased", "l");
            await Etcd.EtcdCtlAsync("put", "/new", "n");
            await Etcd.EtcdCtlStdinAsync("{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\"}", "put", "/registry/example.com/widgets/default/w1");
            (Second, SecondRevision, SecondSha256) = await BackupAsync();
        }

        public async Task<List<Kv>> EtcdctlGetAsync(string key, long? revision)
        {
            List<string> args = ["get", key, key.Length == 0 ? "--from-key" : "--prefix", "-w", "json"];
            if (revision is { } rev)
            {
                args.Add($"--rev={rev}");
            }

            using var json = JsonDocument.Parse(await Etcd.EtcdCtlAsync([.. args]));
            return json.RootElement.TryGetProperty("kvs", out var kvs)
                ? [.. kvs.EnumerateArray().Select(kv => new Kv(Encoding.UTF8.GetString(kv.GetProperty("key").GetBytesFromBase64()),
                    Int(kv, "create_revision"), Int(kv, "mod_revision"), Int(kv, "version"), Int(kv, "lease"),
                    kv.TryGetProperty("value", out var v) ? v.GetBytesFromBase64() : []))]
                : [];
        }

        internal async Task<EtcdServerless.Core.Catalog.BackupManifest> FindAsync(string backupId) =>
            await new EtcdServerless.Core.Catalog.BackupCatalog(new EtcdServerless.Core.Storage.LocalDirectoryBackupStore(Env.StoreDir)).GetAsync("lab", backupId);

        public async Task DisposeAsync()
        {
            await Etcd.DisposeAsync();
            Env.Dispose();
            Directory.Dispose();
        }

        private async Task<(string Id, long Revision, string Sha256)> BackupAsync()
        {
            var run = await Cli.RunAsync("backup", "run", "--config", Config, "-o", "json");
            Assert.True(run.ExitCode == 0, run.Err);
            using var json = JsonDocument.Parse(run.Out);
            var manifest = json.RootElement.GetProperty("manifest");
            var snapshot = manifest.GetProperty("snapshot");
            return (manifest.GetProperty("backupId").GetString()!, snapshot.GetProperty("revision").GetInt64(), snapshot.GetProperty("sha256").GetString()!);
        }

        private static long Revision(string json) => JsonDocument.Parse(json).RootElement.GetProperty("header").GetProperty("revision").GetInt64();

        private static long Int(JsonElement kv, string name) => kv.TryGetProperty(name, out var p) ? p.GetInt64() : 0;
    }
}
