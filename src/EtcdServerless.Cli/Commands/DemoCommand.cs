using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Demo;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup demo</c>: the README's main command. Starts a throwaway 3-member etcd on loopback, fills it
/// with a tiny Kubernetes-like registry, takes a scheduled-style backup through the orchestration runner into
/// the embedded local WORM store (keys in a separate folder), lists and verifies it, and always cleans up.
/// </summary>
internal static class DemoCommand
{
    public const string ClusterName = "demo";

    public static Command Create(CliConsole console)
    {
        var members = new Option<int>("--members") { Description = "Members of the throwaway cluster.", DefaultValueFactory = _ => 3 };
        var keep = new Option<bool>("--keep") { Description = "Keep the temp folder (store, keys, data dirs) for inspection." };
        var command = new Command("demo", "Start a throwaway etcd cluster, back it up, verify and restore it.") { members, keep };
        CommandAction.Set(command, console, (parse, ct) => RunAsync(console, parse.GetValue(members), parse.GetValue(keep), parse.GetValue(CommonOptions.Verbose), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, int size, bool keep, bool verbose, CancellationToken cancellationToken)
    {
        if (size is < 1 or > 7)
        {
            throw new ArgumentException("--members must be between 1 and 7", nameof(size));
        }

        var progress = new CliProgress(console);
        var root = Path.Combine(Path.GetTempPath(), $"etcd-backup-demo-{Guid.NewGuid():N}"[..32]);
        using var loggerFactory = CliLogging.Create(console, verbose ? LogLevel.Debug : LogLevel.Warning);
        await console.Out.WriteLineAsync($"etcd-backup demo: a throwaway {size}-member etcd cluster, a verified encrypted backup, all in {root}").ConfigureAwait(false);
        try
        {
            var etcd = await progress.StepAsync("checking that etcd is installed", ct => EtcdInstaller.EnsureAsync(note => progress.NoteAsync(note, ct), ct), cancellationToken).ConfigureAwait(false);
            await progress.NoteAsync($"using {etcd}", cancellationToken).ConfigureAwait(false);

            var cluster = await progress.StepAsync($"starting a {size}-member etcd cluster on loopback free ports",
                ct => DemoCluster.StartAsync(Path.Combine(root, "members"), size, etcd, loggerFactory, ct), cancellationToken).ConfigureAwait(false);
            await using (cluster.ConfigureAwait(false))
            {
                await progress.NoteAsync($"client URLs: {string.Join(", ", cluster.ClientUrls)}", cancellationToken).ConfigureAwait(false);
                var options = DemoOptions(root, cluster);
                var clusterOptions = options.Clusters[ClusterName];

                var written = await progress.StepAsync("writing sample data (a tiny Kubernetes registry under /registry/)", async ct =>
                {
                    using var client = new EtcdClientFactory().Create(clusterOptions, new Uri(cluster.ClientUrls[0]));
                    return await SampleData.WriteAsync(client, ct).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);
                await progress.NoteAsync($"{written} keys written", cancellationToken).ConfigureAwait(false);

                var app = BackupApplication.Create(options, loggerFactory);
                await using (app.ConfigureAwait(false))
                {
                    await progress.StepAsync($"creating the key-encryption key in {app.Keys.Description} (apart from the store)", async ct =>
                    {
                        using var kek = await app.Keys.InitializeAsync(ct).ConfigureAwait(false);
                    }, cancellationToken).ConfigureAwait(false);

                    var result = await progress.StepAsync($"running a scheduled backup through the orchestration runner into {app.Store.Description}",
                        ct => app.RunBackupAsync(ClusterName, "schedule", ct), cancellationToken).ConfigureAwait(false);
                    if (!result.Succeeded || result.Manifest is null)
                    {
                        throw new InvalidOperationException($"the demo backup failed{(result.FailedPhase is null ? "" : $" in {result.FailedPhase}")}: {result.Message}");
                    }

                    var manifest = result.Manifest;
                    var listed = await progress.StepAsync("listing the catalog", ct => app.ListBackupsAsync(ClusterName, ct), cancellationToken).ConfigureAwait(false);
                    if (!listed.Any(m => m.BackupId == manifest.BackupId))
                    {
                        throw new InvalidOperationException($"backup {manifest.BackupId} is missing from the catalog listing");
                    }

                    var verification = await progress.StepAsync("verifying the backup (download, decrypt, re-check hashes, bbolt, revision, keys)",
                        ct => app.VerifyAsync(manifest, ct), cancellationToken).ConfigureAwait(false);
                    foreach (var check in verification.Checks)
                    {
                        await progress.NoteAsync($"{(check.Passed ? "ok    " : "FAILED")} {check.Name}", cancellationToken).ConfigureAwait(false);
                    }

                    if (!verification.Passed)
                    {
                        throw new InvalidDataException($"backup {manifest.BackupId} failed verification");
                    }

                    await console.Out.WriteLineAsync().ConfigureAwait(false);
                    await console.Out.WriteLineAsync("The backup's manifest:").ConfigureAwait(false);
                    await BackupCommands.WriteManifestAsync(console.Out, manifest, cancellationToken).ConfigureAwait(false);
                    await console.Out.WriteLineAsync().ConfigureAwait(false);
                    await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"demo succeeded: {listed.Count} backup(s) in the catalog, {verification.Checks.Count} verification checks passed.")).ConfigureAwait(false);
                }
            }

            return 0;
        }
        finally
        {
            if (keep)
            {
                await console.Error.WriteLineAsync($"kept {root}").ConfigureAwait(false);
            }
            else
            {
                await progress.StepAsync("cleaning up (members stopped, temp folder removed)", _ =>
                {
                    DeleteTree(root);
                    return Task.CompletedTask;
                }, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The embedded defaults, but in the demo's temp folder: store and keys in separate folders.</summary>
    private static EtcdBackupOptions DemoOptions(string root, DemoCluster cluster)
    {
        var options = new EtcdBackupOptions
        {
            Store = new StoreOptions { Uri = new Uri(Path.Combine(root, "store")).AbsoluteUri, ImmutabilityDays = 1 },
            Keys = new KeysOptions { Uri = new Uri(Path.Combine(root, "keys")).AbsoluteUri },
        };
        options.Clusters[ClusterName] = new ClusterOptions
        {
            Endpoints = [.. cluster.ClientUrls],
            Schedule = "0 */15 * * * *",
            Members = [.. cluster.Members.Select(m => new MemberOptions { Name = m.Config.Name, PeerUrl = m.Config.PeerUrl, ClientUrl = m.Config.ClientUrl, AgentUrl = "http://127.0.0.1:1" })],
        };
        EtcdBackupConfiguration.Complete(options, root);
        EtcdBackupConfiguration.ThrowIfInvalid(options, "demo");
        return options;
    }

    // The WORM store marks artifacts read-only; the demo's throwaway copy may be removed regardless.
    private static void DeleteTree(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            try
            {
                File.SetAttributes(entry, FileAttributes.Normal);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) | UnixFileMode.UserRead | UnixFileMode.UserWrite | (Directory.Exists(entry) ? UnixFileMode.UserExecute : 0));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        Directory.Delete(root, recursive: true);
    }
}
