using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Demo;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Workflows.Http;
using Microsoft.DurableTask.Client;
using EtcdServerless.Core.Restore;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup demo</c>: the README's main command. Starts a throwaway 3-member etcd on loopback, fills it
/// with a tiny Kubernetes-like registry, takes a scheduled-style backup through the orchestration runner into
/// the embedded local WORM store (keys in a separate folder), lists and verifies it, then loses every data directory
/// and restores the cluster from the backup with the real restore orchestration through in-process member agents
/// (mutual TLS with a throwaway PKI), checks the data, and always cleans up.
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
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var root = Path.Combine(Path.GetTempPath(), $"etcd-backup-demo-{Guid.NewGuid():N}"[..32]);
        using var loggerFactory = CliLogging.Create(console, verbose ? LogLevel.Debug : LogLevel.Warning);
        await console.Out.WriteLineAsync($"etcd-backup demo: a throwaway {size}-member etcd cluster under member agents, a verified encrypted backup, a restore over mutual TLS, all in {root}").ConfigureAwait(false);
        try
        {
            var etcd = await progress.StepAsync("checking that etcd is installed", ct => EtcdInstaller.EnsureAsync(note => progress.NoteAsync(note, ct), ct), cancellationToken).ConfigureAwait(false);
            await progress.NoteAsync($"using {etcd}", cancellationToken).ConfigureAwait(false);

            var pki = await progress.StepAsync("creating a throwaway PKI (a CA, one server certificate per agent, the orchestrator's client certificate)",
                _ => Task.FromResult(DemoCertificates.Create(Path.Combine(root, "pki"), size)), cancellationToken).ConfigureAwait(false);

            var cluster = await progress.StepAsync($"starting {size} member agents (mutual TLS), each supervising one member of a new etcd cluster",
                ct => DemoAgents.StartAsync(Path.Combine(root, "members"), size, etcd, pki.CaFile, pki.Agents, ct), cancellationToken).ConfigureAwait(false);
            await using (cluster.ConfigureAwait(false))
            {
                await progress.NoteAsync($"client URLs: {string.Join(", ", cluster.ClientUrls)}", cancellationToken).ConfigureAwait(false);
                await progress.NoteAsync($"agent URLs:  {string.Join(", ", cluster.Members.Select(m => m.AgentUrl))}", cancellationToken).ConfigureAwait(false);
                var options = DemoOptions(root, cluster, pki.CaFile, pki.Orchestrator);
                var clusterOptions = options.Clusters[ClusterName];

                var written = await progress.StepAsync("writing sample data (a tiny Kubernetes registry under /registry/)", async ct =>
                {
                    using var client = Client(clusterOptions, cluster.ClientUrls[0]);
                    return await SampleData.WriteAsync(client, ct).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);
                await progress.NoteAsync($"{written} keys written", cancellationToken).ConfigureAwait(false);

                var app = BackupApplication.Create(options, loggerFactory);
                await using (app.ConfigureAwait(false))
                {
                    var (manifest, backups, checks) = await BackupAndVerifyAsync(console, progress, app, cancellationToken).ConfigureAwait(false);
                    var (sample, after) = await LoseAndRestoreAsync(console, progress, app, cluster, clusterOptions, manifest.BackupId, written, cancellationToken).ConfigureAwait(false);

                    await console.Out.WriteLineAsync().ConfigureAwait(false);
                    await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"restore check: {sample}/{written} sample keys back on all {cluster.Members.Count} members, {after}/{PostBackupKeys} post-backup keys left")).ConfigureAwait(false);
                    await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"demo succeeded: {backups} backup(s) in the catalog, {checks} verification checks passed, restored through {cluster.Members.Count} agents and verified, in {watch.Elapsed.TotalSeconds:F1}s.")).ConfigureAwait(false);
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
                await progress.StepAsync("cleaning up (agents and members stopped, temp folder removed)", _ =>
                {
                    DeleteTree(root);
                    return Task.CompletedTask;
                }, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The backup half of the demo: the key-encryption key, a scheduled backup through the orchestration runner, the
    /// catalog listing and the verification. Returns the manifest and the counts the closing line reports.
    /// </summary>
    private static async Task<(BackupManifest Manifest, int Backups, int Checks)> BackupAndVerifyAsync(CliConsole console, CliProgress progress, BackupApplication app, CancellationToken cancellationToken)
    {
        await progress.StepAsync($"creating the key-encryption key in {app.Keys.Description} (apart from the store)", async ct =>
        {
            using var kek = await app.Keys.InitializeAsync(ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        var result = await progress.StepAsync($"running a scheduled backup through the orchestration runner into {app.Store.Description}",
            ct => app.RunBackupAsync(ClusterName, Core.Backup.BackupTrigger.Scheduled, ct), r => r.Succeeded, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded || result.Manifest is null)
        {
            throw new InvalidOperationException($"the demo backup failed{(result.FailedPhase is null ? "" : $" in {result.FailedPhase}")}: {result.Message}");
        }

        var manifest = result.Manifest;
        var listed = await progress.StepAsync("listing the catalog", ct => app.Catalog.ListAsync(ClusterName, ct), cancellationToken).ConfigureAwait(false);
        if (!listed.Any(m => m.BackupId == manifest.BackupId))
        {
            throw new InvalidOperationException($"backup {manifest.BackupId} is missing from the catalog listing");
        }

        var verification = await progress.StepAsync("verifying the backup (download, decrypt, re-check hashes, bbolt, revision, keys)",
            ct => app.VerifyAsync(manifest, ct), r => r.Passed, cancellationToken).ConfigureAwait(false);
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

        return (manifest, listed.Count, verification.Checks.Count);
    }

    /// <summary>
    /// The restore half of the demo: keys written after the backup, the loss of every data directory, the restore
    /// through the member agents, and the check that every member holds the sample keys and none written after.
    /// </summary>
    private static async Task<(long Sample, long After)> LoseAndRestoreAsync(
        CliConsole console, CliProgress progress, BackupApplication app, DemoAgents cluster, ClusterOptions clusterOptions, string backupId, int written, CancellationToken cancellationToken)
    {
        var late = await progress.StepAsync($"writing {PostBackupKeys} keys after the backup (the restore must make them disappear)", async ct =>
        {
            using var client = Client(clusterOptions, cluster.ClientUrls[0]);
            await SampleData.WritePostBackupAsync(client, PostBackupKeys, ct).ConfigureAwait(false);
            return await client.CountAsync(SampleData.PostBackupPrefix, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        await progress.NoteAsync($"{late} post-backup keys present", cancellationToken).ConfigureAwait(false);

        await progress.StepAsync("the disaster: stopping every member and deleting every data directory", async ct =>
        {
            await cluster.DestroyDataAsync(ct).ConfigureAwait(false);
            var running = await cluster.RunningAsync(ct).ConfigureAwait(false);
            if (running != 0)
            {
                throw new InvalidOperationException($"{running} member(s) still run after the stop");
            }
        }, cancellationToken).ConfigureAwait(false);

        var restored = await progress.StepAsync("restoring the cluster from the backup through the member agents (mutual TLS)",
            ct => RestoreAsync(app, backupId, ct), r => r.Outcome == RestoreOutcome.Succeeded, cancellationToken).ConfigureAwait(false);
        await WriteRestoreAsync(console.Out, restored).ConfigureAwait(false);
        if (restored.Outcome != RestoreOutcome.Succeeded)
        {
            throw new InvalidOperationException($"the demo restore ended {restored.Outcome} in phase {restored.Phase}: {restored.Error}");
        }

        var (sample, after) = await progress.StepAsync<(long Sample, long After)>("checking the restored data (sample keys back, post-backup keys gone)", async ct =>
        {
            var counts = new List<(long Sample, long After)>();
            foreach (var url in cluster.ClientUrls)
            {
                using var client = Client(clusterOptions, url);
                var all = await client.CountAsync("/registry/", ct).ConfigureAwait(false);
                var gone = await client.CountAsync(SampleData.PostBackupPrefix, ct).ConfigureAwait(false);
                counts.Add((all - gone, gone));
            }

            if (counts.Any(c => c.Sample != written || c.After != 0))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"restored data mismatch (per member sample/post-backup keys: {string.Join(", ", counts.Select(c => $"{c.Sample}/{c.After}"))}; expected {written}/0)"));
            }

            return counts[0];
        }, cancellationToken).ConfigureAwait(false);
        await progress.NoteAsync(string.Create(CultureInfo.InvariantCulture, $"every member: {sample} of {written} sample keys present, {after} of {PostBackupKeys} post-backup keys present"), cancellationToken).ConfigureAwait(false);

        return (sample, after);
    }
    private const int PostBackupKeys = 12;

    private static EtcdServerless.Etcd.Client.EtcdClient Client(ClusterOptions cluster, string url)
    {
        IEtcdClientFactory factory = new EtcdClientFactory();
        return factory.Create(cluster, new Uri(url));
    }

    /// <summary>Runs the real restore orchestration (through <see cref="BackupApplication.StartRestoreAsync"/>) to its end.</summary>
    private static async Task<RestoreResult> RestoreAsync(BackupApplication app, string backupId, CancellationToken cancellationToken)
    {
        var started = await app.StartRestoreAsync(new RestoreApiRequest
        {
            Cluster = ClusterName,
            Backup = backupId,
            Confirm = ClusterName,
            Reason = "etcd-backup demo: every data directory was deleted",
        }, cancellationToken).ConfigureAwait(false);
        var state = await app.Gateway.WaitForCompletionAsync(started.InstanceId, cancellationToken).ConfigureAwait(false);
        if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
        {
            throw new InvalidOperationException($"the restore orchestration {state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
        }

        return state.ReadOutputAs<RestoreResult>() ?? throw new InvalidOperationException("the restore orchestration returned no result");
    }

    private static async Task WriteRestoreAsync(TextWriter o, RestoreResult result)
    {
        var c = CultureInfo.InvariantCulture;
        await o.WriteLineAsync().ConfigureAwait(false);
        await o.WriteLineAsync(string.Create(c, $"The restore ({result.Plan?.RestoreId ?? "?"}, backup {result.Plan?.Backup.BackupId ?? "?"}, new token {result.Plan?.Token ?? "?"}):")).ConfigureAwait(false);
        await o.WriteLineAsync(string.Create(c, $"  {"MEMBER",-10} {"STATE",-12} STEPS")).ConfigureAwait(false);
        foreach (var m in result.Members)
        {
            var steps = string.Join(", ", m.Steps.Select(s => string.Create(c, $"{s.Name} {(s.Succeeded ? "ok" : "FAILED")} {s.DurationMs / 1000:F1}s")));
            await o.WriteLineAsync(string.Create(c, $"  {m.Name,-10} {m.State,-12} {steps}{(m.Error is null ? "" : " error: " + m.Error)}")).ConfigureAwait(false);
        }

        if (result.Verification is { } v)
        {
            await o.WriteLineAsync(string.Create(c, $"  verify     {(v.Succeeded ? "ok" : "FAILED")}: {v.MembersUp} up, {v.Leaders} leader, revision {v.Revision} (expected {v.ExpectedRevision}), {v.KeyCount} keys (expected {v.ExpectedKeyCount}), HashKV {string.Join("/", v.HashKv.Values.Distinct())}")).ConfigureAwait(false);
            foreach (var problem in v.Problems)
            {
                await o.WriteLineAsync($"  problem    {problem}").ConfigureAwait(false);
            }
        }

        await o.WriteLineAsync(string.Create(c, $"restore result: {result.Outcome} (phase {result.Phase}, {(result.Finished - result.Started).TotalSeconds:F1}s){(result.Error is null ? "" : ": " + result.Error)}")).ConfigureAwait(false);
    }

    /// <summary>The embedded defaults, but in the demo's temp folder: store and keys in separate folders.</summary>
    private static EtcdBackupOptions DemoOptions(string root, DemoAgents cluster, string caFile, DemoCertificateFiles orchestrator)
    {
        var options = new EtcdBackupOptions
        {
            Store = new StoreOptions { Uri = new Uri(Path.Combine(root, "store")).AbsoluteUri, ImmutabilityDays = 1 },
            Keys = new KeysOptions { Uri = new Uri(Path.Combine(root, "keys")).AbsoluteUri },
            Restore = new RestoreSettings
            {
                AgentTls = new Core.Configuration.AgentTlsOptions { CertFile = orchestrator.CertFile, KeyFile = orchestrator.KeyFile, CaFile = caFile, TimeoutSeconds = 120 },
            },
        };
        options.Clusters[ClusterName] = new ClusterOptions
        {
            Endpoints = [.. cluster.ClientUrls],
            Schedule = "0 */15 * * * *",
            Members = [.. cluster.Members],
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
