using System.Diagnostics;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>
/// Defends: a backup killed with SIGKILL mid-stream leaves no readable plaintext snapshot, no orphan artifact,
/// and the next run succeeds and removes what the killed one staged. Real etcd (>= 200 MB), the real CLI process.
/// </summary>
[Trait("Category", "Abuse")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CrashDuringBackupTests
{
    private const int ValueSize = 1024 * 1024;
    private const int KeyCount = 210;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    [Fact]
    public async Task BackupRun_KilledMidStream_LeavesNoPlaintextNoOrphanAndNextRunSucceeds()
    {
        // Arrange: a >= 200 MB etcd (incompressible values, so the stream takes a while) and a private TMPDIR.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await using (var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(cluster.ClientUrls[0]) }))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, KeyCount), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            {
                var value = new byte[ValueSize];
                Random.Shared.NextBytes(value);
                await client.PutAsync(System.Text.Encoding.UTF8.GetBytes($"/registry/blobs/{i:D4}"), value, cancellationToken: ct);
            });
        }

        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });
        var tmp = env.Combine("tmp");
        Directory.CreateDirectory(tmp);
        var staging = Path.Combine(env.StoreDir, LocalDirectoryBackupStore.StagingDirectoryName);
        var scratch = Path.Combine(tmp, PrivateTempFiles.FolderName);

        // Act 1: start a real backup and SIGKILL it once tens of MB are staged.
        using (var killed = StartCli(tmp, "backup", "run", "--config", config))
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (StagedBytes(staging) < 16L * 1024 * 1024)
            {
                if (killed.HasExited)
                {
                    Assert.Fail($"the backup ended (exit {killed.ExitCode}) before it could be killed: {await killed.StandardError.ReadToEndAsync()}");
                }

                Assert.True(DateTime.UtcNow < deadline, "the backup never staged 16 MB");
                await Task.Delay(20);
            }

            // While it runs, the plaintext exists only as an unlinked descriptor: nothing in the folder to open.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(scratch));
            Assert.Empty(Directory.GetFiles(scratch));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(staging));
            Assert.All(Directory.GetFiles(staging), f => Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(f) & GroupOrOther));

            killed.Kill(entireProcessTree: true);
            await killed.WaitForExitAsync();
        }

        // Assert 1: no readable copy of anything big anywhere we wrote; no plaintext scratch file at all; no orphan.
        Assert.Empty(Directory.GetFiles(scratch));
        foreach (var file in Directory.EnumerateFiles(env.Combine(), "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            if (info.Length >= ValueSize && !file.EndsWith(BackupNaming.ArtifactSuffix, StringComparison.Ordinal))
            {
                Assert.True((File.GetUnixFileMode(file) & GroupOrOther) == UnixFileMode.None, $"{file} ({info.Length} bytes) is readable by others");
                Assert.StartsWith(staging, file, StringComparison.Ordinal);
            }
        }

        var store = new LocalDirectoryBackupStore(env.StoreDir);
        var catalog = new BackupCatalog(store);
        Assert.Empty(await catalog.FindOrphansAsync("lab", TimeSpan.Zero));
        Assert.Empty(await catalog.ListAsync("lab"));

        // Act 2: the next run (a real process again).
        using var next = StartCli(tmp, "backup", "run", "--config", config);
        var stderr = next.StandardError.ReadToEndAsync();
        await next.StandardOutput.ReadToEndAsync();
        await next.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));

        // Assert 2: it succeeded, and removed what the killed run staged.
        Assert.True(next.ExitCode == 0, await stderr);
        Assert.Empty(Directory.GetFiles(staging));
        Assert.Empty(Directory.GetFiles(scratch));
        Assert.Single(await catalog.ListAsync("lab"));
        Assert.Empty(await catalog.FindOrphansAsync("lab", TimeSpan.Zero));
    }

    private static long StagedBytes(string staging) =>
        Directory.Exists(staging) ? Directory.EnumerateFiles(staging, "*.part").Sum(f => new FileInfo(f).Length) : 0;

    /// <summary>The real <c>etcd-backup</c> (built next to the tests) as a child process with its own TMPDIR.</summary>
    private static Process StartCli(string tmp, params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "etcd-backup");
        Assert.True(File.Exists(exe), $"{exe} is missing");
        var start = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TMPDIR"] = tmp;
        return Process.Start(start) ?? throw new InvalidOperationException("could not start etcd-backup");
    }
}
