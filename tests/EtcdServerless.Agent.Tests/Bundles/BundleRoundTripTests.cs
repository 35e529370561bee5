using System.Diagnostics;
using System.Formats.Tar;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Cli;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Agent.Tests.Bundles;

/// <summary>
/// The control-plane bundle end to end through real agents (mTLS) and a real 3-member etcd: collected with the
/// backup, sealed beside the snapshot, verified, exported (0600), put back by a restore before the members start,
/// with content, modes, owners and times identical; the encryption configuration's secret never reaches a log.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class BundleRoundTripTests
{
    private const UnixFileMode Mode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode644 = Mode600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Fact]
    public async Task Bundle_BackupExportAndRestore_RoundTripsContentModesOwnersAndKeepsSecretsOutOfLogs()
    {
        using var cp = new TempDirectory("etcdsl-cp");
        var secret = $"marker-secret-{Guid.NewGuid():N}";
        var roots = await MakeControlPlaneAsync(cp, secret);
        using var logs = new CapturingLoggerProvider();
        await using var h = await RestoreHarness.StartAsync(configure: (_, o) => o.Bundle.Paths = [.. roots], logs: logs);
        h.Options.Clusters[RestoreHarness.Cluster].Bundle.AgentUrl = h.Agents.Members[0].AgentUrl;
        h.Options.Restore.AgentTls.CertFile = h.OrchestratorCert.CertPath;
        h.Options.Restore.AgentTls.KeyFile = h.OrchestratorCert.KeyPath;
        h.Options.Restore.AgentTls.CaFile = h.Certs.CaCertPath;
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 5);
        using var agents = h.CreateAgentClient();
        var original = await CollectAsync(agents, h.Agents.Members[1].AgentUrl);
        Assert.Equal(10, original.Count);
        Assert.Contains(original, e => e.Contains("SymbolicLink", StringComparison.Ordinal) && e.Contains(" ca.crt ", StringComparison.Ordinal));
        Assert.Contains(original, e => e.Contains("server.key", StringComparison.Ordinal) && e.Contains(Environment.IsPrivilegedProcess ? " 1234:5678 " : " ", StringComparison.Ordinal));

        // Backup: the manifest lists both artifacts; verify checks both.
        var manifest = await h.BackupAsync();
        var bundle = Assert.IsType<Core.Catalog.BundleArtifactInfo>(manifest.Bundle);
        Assert.Equal(Core.Catalog.BackupNaming.BundleName(RestoreHarness.Cluster, manifest.BackupId), bundle.Name);
        Assert.True(bundle.TarSize > 0 && bundle.Size > 0);
        Assert.DoesNotContain(secret, await File.ReadAllTextAsync(Path.Combine(h.Temp.Combine("store"), Core.Catalog.BackupNaming.ManifestName(RestoreHarness.Cluster, manifest.BackupId))), StringComparison.Ordinal);
        var verified = await new BackupVerifier(h.Store, h.Keys).VerifyAsync(manifest);
        Assert.True(verified.Passed, string.Join("; ", verified.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")));
        Assert.Contains(verified.Checks, c => c.Name == "bundle.tarSha256" && c.Passed);

        // Export: the same tar, mode 0600.
        var config = WriteConfig(h);
        var exported = h.Temp.Combine("bundle.tar");
        var (exit, _, stderr) = await RunCliAsync("backup", "export", manifest.BackupId, "--config", config, "--cluster", RestoreHarness.Cluster, "--bundle", "-o", exported);
        Assert.True(exit == 0, stderr);
        Assert.Equal(Mode600, File.GetUnixFileMode(exported));
        Assert.Equal(bundle.TarSha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(exported))));
        Assert.Equal(original, await DescribeAsync(File.OpenRead(exported)));

        // Damage the control plane, then restore with the bundle.
        File.SetUnixFileMode(Path.Combine(roots[1], "ca.crt"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite);
        await File.WriteAllTextAsync(roots[2], "changed");
        File.Delete(Path.Combine(roots[1], "current.crt"));
        Directory.Delete(Path.Combine(roots[1], "etcd"), recursive: true);
        Assert.NotEqual(original, await CollectAsync(agents, h.Agents.Members[1].AgentUrl));

        var (result, _) = await h.RestoreAsync(h.Request() with { RestoreBundle = true });

        Assert.True(result.Outcome == RestoreOutcome.Succeeded, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.All(result.Members, m => Assert.Equal(["stop", "upload", "restore", "bundle", "start"], m.Steps.Select(s => s.Name)));
        Assert.Equal(original, await CollectAsync(agents, h.Agents.Members[2].AgentUrl));
        Assert.Equal(Mode600, File.GetUnixFileMode(roots[2]));
        Assert.Contains(secret, await File.ReadAllTextAsync(roots[2]), StringComparison.Ordinal);

        Assert.True(logs.Count > 0);
        Assert.Contains("control-plane bundle", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bundle_RestoreOfABackupWithoutOne_IsRejectedBeforeAnythingIsTouched()
    {
        await using var h = await RestoreHarness.StartAsync();
        await h.BackupAsync();

        var (result, _) = await h.RestoreAsync(h.Request() with { RestoreBundle = true });

        Assert.Equal(RestoreOutcome.Rejected, result.Outcome);
        Assert.Contains("has no control-plane bundle", result.Error, StringComparison.Ordinal);
        Assert.All(Enumerable.Range(0, 3), i => Assert.True(h.Agents.IsRunning(i)));
    }

    /// <summary>manifests/ (two files), pki/ (keys, a subfolder owned by another user, a link), one encryption config file.</summary>
    private static async Task<string[]> MakeControlPlaneAsync(TempDirectory cp, string secret)
    {
        var manifests = cp.Combine("etc", "kubernetes", "manifests");
        var pki = cp.Combine("etc", "kubernetes", "pki");
        var enc = cp.Combine("etc", "kubernetes", "enc", "encryption-config.yaml");
        Directory.CreateDirectory(manifests);
        Directory.CreateDirectory(Path.Combine(pki, "etcd"));
        Directory.CreateDirectory(Path.GetDirectoryName(enc)!);
        await Write(Path.Combine(manifests, "etcd.yaml"), "kind: Pod\nmetadata: {name: etcd}\n", Mode644);
        await Write(Path.Combine(manifests, "kube-apiserver.yaml"), "kind: Pod\nmetadata: {name: kube-apiserver}\n", Mode600);
        await Write(Path.Combine(pki, "ca.crt"), "-----BEGIN CERTIFICATE-----\nabc\n", Mode644);
        await Write(Path.Combine(pki, "ca.key"), "-----BEGIN PRIVATE KEY-----\nxyz\n", Mode600);
        await Write(Path.Combine(pki, "etcd", "server.key"), "-----BEGIN PRIVATE KEY-----\nsrv\n", Mode600 | UnixFileMode.GroupRead);
        File.CreateSymbolicLink(Path.Combine(pki, "current.crt"), "ca.crt");
        await Write(enc, $"kind: EncryptionConfiguration\nresources:\n- providers:\n  - aescbc:\n      keys:\n      - name: key1\n        secret: {secret}\n", Mode600);
        File.SetUnixFileMode(Path.Combine(pki, "etcd"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        if (Environment.IsPrivilegedProcess)
        {
            // Owners survive too (the agent runs as root on a control-plane node).
            using var chown = Process.Start("chown", ["-R", "1234:5678", Path.Combine(pki, "etcd")])!;
            await chown.WaitForExitAsync();
            Assert.Equal(0, chown.ExitCode);
        }

        var old = new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc);
        foreach (var path in Directory.EnumerateFiles(cp.Path, "*", SearchOption.AllDirectories).Where(p => new FileInfo(p).LinkTarget is null))
        {
            File.SetLastWriteTimeUtc(path, old);
        }

        foreach (var dir in new[] { manifests, Path.Combine(pki, "etcd"), pki })
        {
            Directory.SetLastWriteTimeUtc(dir, old.AddHours(1));
        }

        return [manifests, pki, enc];

        static async Task Write(string path, string text, UnixFileMode mode)
        {
            await File.WriteAllTextAsync(path, text);
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>What the agent would collect now, described entry by entry.</summary>
    private static async Task<IReadOnlyList<string>> CollectAsync(AgentClient agents, string agentUrl)
    {
        using var buffer = new MemoryStream();
        await agents.DownloadBundleAsync(agentUrl, (tar, ct) => tar.CopyToAsync(buffer, ct));
        buffer.Position = 0;
        return await DescribeAsync(buffer);
    }

    /// <summary>Name, type, mode, owner, time (seconds), link target and content hash of every entry.</summary>
    private static async Task<IReadOnlyList<string>> DescribeAsync(Stream tar)
    {
        var entries = new List<string>();
        await using (tar)
        {
            var reader = new TarReader(tar);
            await using (reader)
            {
                while (await reader.GetNextEntryAsync(copyData: true) is { } entry)
                {
                    var posix = (PosixTarEntry)entry;
                    var hash = entry.DataStream is { } data ? Convert.ToHexStringLower(await SHA256.HashDataAsync(data)) : "-";
                    var time = entry.EntryType == TarEntryType.SymbolicLink ? 0 : entry.ModificationTime.ToUnixTimeSeconds();
                    entries.Add($"{entry.Name} {entry.EntryType} {entry.Mode} {posix.Uid}:{posix.Gid} {time} {entry.LinkName} {hash}");
                }
            }
        }

        return entries;
    }

    private static string WriteConfig(RestoreHarness h)
    {
        var path = h.Temp.Combine("cli.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(h.Temp.Combine("store")).AbsoluteUri },
            Keys = new { Uri = new Uri(h.Temp.Combine("keys")).AbsoluteUri },
            Clusters = new Dictionary<string, object> { [RestoreHarness.Cluster] = new { Endpoints = h.Agents.ClientUrls } },
        }));
        return path;
    }

    private static async Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
