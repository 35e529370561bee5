using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Retention;

namespace EtcdServerless.Cli.Commands;

/// <summary><c>etcd-backup backup run|list|describe|verify|prune|delete</c>.</summary>
internal static class BackupCommands
{
    public static Command Create(CliConsole console)
    {
        var backup = new Command("backup", "Run, list, describe, verify, prune and delete backups.");
        backup.Subcommands.Add(Run(console));
        backup.Subcommands.Add(List(console));
        backup.Subcommands.Add(Describe(console));
        backup.Subcommands.Add(Verify(console));
        backup.Subcommands.Add(Prune(console));
        backup.Subcommands.Add(BackupDeleteCommand.Create(console));
        return backup;
    }

    private static Command Run(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var backupName = BackupNames.Option();
        var command = new Command("run", "Take one verified, encrypted backup of each configured cluster (or --cluster) and print its manifest.") { config, cluster, output, backupName };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            await app.CleanupLeftoversAsync(ct).ConfigureAwait(false);
            var progress = new CliProgress(console);
            var results = new List<BackupResult>();
            foreach (var name in app.SelectClusters(parse.GetValue(cluster)))
            {
                var result = await progress.StepAsync($"backing up {name} to {app.Store.Description}",
                    c => app.RunBackupAsync(name, Core.Backup.BackupTrigger.OnDemand, c), r => r.Succeeded, ct).ConfigureAwait(false);
                results.Add(result);
                if (result.Succeeded && result.Manifest is not null && parse.GetValue(backupName) is { } named)
                {
                    await BackupNames.SetAsync(app.Store, result.Manifest, named, ct).ConfigureAwait(false);
                }

                if (!result.Succeeded)
                {
                    await console.Error.WriteLineAsync($"error: backup of '{name}' failed{(result.FailedPhase is null ? "" : $" in {result.FailedPhase}")}: {result.Message}").ConfigureAwait(false);
                }
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, results.Count == 1 ? results[0] : (object)results, ct).ConfigureAwait(false);
            }
            else
            {
                foreach (var result in results.Where(r => r.Manifest is not null))
                {
                    await WriteManifestAsync(console.Out, result.Manifest!, ct).ConfigureAwait(false);
                    if (parse.GetValue(backupName) is { } named && result.Succeeded)
                    {
                        await console.Out.WriteLineAsync($"{"name:",-16} {named}").ConfigureAwait(false);
                    }

                    foreach (var warning in result.Warnings)
                    {
                        await console.Out.WriteLineAsync($"warning:         {warning}").ConfigureAwait(false);
                    }
                }
            }

            return results.All(r => r.Succeeded) ? 0 : CommandAction.Failure;
        });
        return command;
    }

    private static Command List(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var command = new Command("list", "List the backups in the store, oldest first.") { config, cluster, output };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var all = new List<BackupManifest>();
            var drills = new Dictionary<(string, string), DrillResult>();
            var coverage = new Dictionary<string, IReadOnlyList<Core.Deltas.DeltaCoverageRange>>(StringComparer.Ordinal);
            foreach (var name in app.SelectClusters(parse.GetValue(cluster)))
            {
                coverage[name] = await BackupDeltasCommands.CoverageAsync(app, name, ct).ConfigureAwait(false);
                var scan = await app.Catalog.ScanAsync(name, ct).ConfigureAwait(false);
                all.AddRange(scan.Backups);
                await WriteDamagedAsync(console, scan.Damaged).ConfigureAwait(false);
                foreach (var (backupId, drill) in await DrillRecords.GetLatestByBackupAsync(app.Store, name, ct).ConfigureAwait(false))
                {
                    drills[(name, backupId)] = drill;
                }
            }

            DrillResult? LastDrill(BackupManifest m) => drills.GetValueOrDefault((m.Cluster, m.BackupId));
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                // Each manifest as stored, plus its last drill (records live beside it; the manifest is write-once).
                var items = new System.Text.Json.Nodes.JsonArray();
                foreach (var m in all)
                {
                    var item = JsonSerializer.SerializeToNode(m, CliJson.Options)!.AsObject();
                    item["lastDrill"] = LastDrill(m) is { } d ? JsonSerializer.SerializeToNode(d, CliJson.Options) : null;
                    items.Add(item);
                }

                await CliJson.WriteAsync(console.Out, items, ct).ConfigureAwait(false);
                return 0;
            }

            var table = new TextTable("CLUSTER", "BACKUP ID", "NAME", "CREATED (UTC)", "REVISION", "KEYS", "SIZE", "KEK", "RETAIN UNTIL", "LAST DRILL");
            foreach (var m in all)
            {
                table.AddRow(m.Cluster, m.BackupId, await BackupNames.GetAsync(app.Store, m, ct).ConfigureAwait(false) ?? "-", m.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    m.Snapshot.Revision.ToString(CultureInfo.InvariantCulture), m.Snapshot.TotalKey.ToString(CultureInfo.InvariantCulture),
                    Bytes(m.Artifact.Size), $"{m.Key.KekId}/{m.Key.KekVersion}",
                    m.Artifact.RetainUntil?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-",
                    LastDrill(m) is { } last ? $"{last.Outcome} {last.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}" : "-");
            }

            await table.WriteAsync(console.Out, ct).ConfigureAwait(false);
            await BackupDeltasCommands.WriteCoverageAsync(console.Out, coverage, ct).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command Describe(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var id = new Argument<string>("ID") { Description = "The backup id or name (see backup list), or 'latest' (with --cluster when several are configured)." };
        var command = new Command("describe", "Print one backup's manifest.") { id, config, cluster, output };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var manifest = await BackupNames.FindAsync(session.Application, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var drill = await DrillRecords.GetLatestAsync(session.Application.Store, manifest.Cluster, manifest.BackupId, ct).ConfigureAwait(false);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                // The manifest as stored, plus the last drill (records live beside it; the manifest is write-once).
                var json = JsonSerializer.SerializeToNode(manifest, CliJson.Options)!.AsObject();
                json["lastDrill"] = drill is null ? null : JsonSerializer.SerializeToNode(drill, CliJson.Options);
                await CliJson.WriteAsync(console.Out, json, ct).ConfigureAwait(false);
            }
            else
            {
                await WriteManifestAsync(console.Out, manifest, ct).ConfigureAwait(false);
                await console.Out.WriteLineAsync($"{"last drill:",-16} {BackupDrillCommand.Summary(drill)}").ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static Command Verify(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var id = new Argument<string>("ID") { Description = "The backup id or name (see backup list), or 'latest' (with --cluster when several are configured)." };
        var command = new Command("verify", "Download, decrypt and re-check a backup (hashes, bbolt structure, revision, keys).") { id, config, cluster, output };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var manifest = await BackupNames.FindAsync(app, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var report = await new CliProgress(console).StepAsync($"verifying {manifest.Cluster}/{manifest.BackupId}",
                c => app.VerifyAsync(manifest, c), r => r.Passed, ct).ConfigureAwait(false);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, report, ct).ConfigureAwait(false);
            }
            else
            {
                var table = new TextTable("CHECK", "RESULT", "DETAIL");
                foreach (var check in report.Checks)
                {
                    table.AddRow(check.Name, check.Passed ? "ok" : "FAILED", Detail(check));
                }

                await table.WriteAsync(console.Out, ct).ConfigureAwait(false);
                await console.Out.WriteLineAsync(report.Passed ? "verified: all checks passed" : "NOT VERIFIED: at least one check failed").ConfigureAwait(false);
            }

            if (!report.Passed)
            {
                await console.Error.WriteLineAsync($"error: backup {manifest.BackupId} failed verification: {string.Join("; ", report.Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {Detail(c)}"))}").ConfigureAwait(false);
                return CommandAction.Failure;
            }

            return 0;
        });
        return command;
    }

    private static Command Prune(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show what retention would delete." };
        var command = new Command("prune", "Apply each cluster's retention policy; backups still under immutability are skipped, never forced.") { config, cluster, dryRun, output };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var dry = parse.GetValue(dryRun);
            var results = new List<(string Cluster, RetentionResult Result)>();
            foreach (var name in app.SelectClusters(parse.GetValue(cluster)))
            {
                var result = await app.PruneAsync(name, dry, ct).ConfigureAwait(false);
                await WriteDamagedAsync(console, result.Damaged).ConfigureAwait(false);
                results.Add((name, result));
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, results.Select(r => new
                {
                    cluster = r.Cluster,
                    dryRun = dry,
                    keep = r.Result.Plan.ToKeep.Select(d => new { backupId = d.BackupId, reasons = d.Reasons }),
                    delete = r.Result.Plan.ToDelete.Select(d => d.BackupId),
                    deleted = r.Result.Deleted,
                    wouldDelete = dry ? r.Result.ToDeleteNow : [],
                    skippedImmutable = r.Result.SkippedImmutable,
                    orphanedArtifacts = r.Result.OrphanedArtifacts,
                }), ct).ConfigureAwait(false);
                return 0;
            }

            var table = new TextTable("CLUSTER", "BACKUP ID", "ACTION", "WHY");
            foreach (var (name, result) in results)
            {
                var skipped = result.SkippedImmutable.ToDictionary(s => s.BackupId, StringComparer.Ordinal);
                foreach (var decision in result.Plan.Decisions)
                {
                    // One classification for both modes: the dry run took the same immutability decisions.
                    var action = decision.Keep ? "keep"
                        : skipped.TryGetValue(decision.BackupId, out var skip) ? $"skipped: immutable until {skip.RetainUntil.UtcDateTime:yyyy-MM-dd HH:mm}"
                        : !result.ToDeleteNow.Contains(decision.BackupId) ? "not deleted"
                        : dry ? "would delete" : "deleted";
                    table.AddRow(name, decision.BackupId, action, string.Join(", ", decision.Reasons));
                }
            }

            await table.WriteAsync(console.Out, ct).ConfigureAwait(false);
            var deleted = results.Sum(r => r.Result.ToDeleteNow.Count);
            var skippedCount = results.Sum(r => r.Result.SkippedImmutable.Count);
            await console.Out.WriteLineAsync(dry
                ? $"dry run: {deleted} backup(s) would be deleted, {skippedCount} still immutable"
                : $"{deleted} backup(s) deleted, {skippedCount} skipped (still immutable)").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static async Task WriteDamagedAsync(CliConsole console, IReadOnlyList<DamagedCatalogEntry> damaged)
    {
        foreach (var entry in damaged)
        {
            await console.Error.WriteLineAsync($"warning: {entry}").ConfigureAwait(false);
        }
    }

    internal static async Task WriteManifestAsync(TextWriter writer, BackupManifest m, CancellationToken cancellationToken)
    {
        var lines = new (string, string)[]
        {
            ("backup id", m.BackupId),
            ("cluster", m.Cluster),
            ("created", m.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)),
            ("source", $"{m.Source.Name} {m.Source.Endpoint} ({(m.Source.IsLeader ? "leader" : "follower")}, etcd {m.Source.EtcdVersion}, raft term {m.Source.RaftTerm} index {m.Source.RaftIndex})"),
            ("revision", m.Snapshot.Revision.ToString(CultureInfo.InvariantCulture)),
            ("total keys", m.Snapshot.TotalKey.ToString(CultureInfo.InvariantCulture)),
            ("hash", m.Snapshot.Hash.ToString(CultureInfo.InvariantCulture)),
            ("snapshot", $"{Bytes(m.Snapshot.Size)} sha256 {m.Snapshot.Sha256}"),
            ("artifact", $"{m.Artifact.Name} ({Bytes(m.Artifact.Size)}, {m.Artifact.Compression}, sha256 {m.Artifact.Sha256})"),
            ("retain until", m.Artifact.RetainUntil?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) ?? "-"),
            ("key", $"{m.Key.KekId}/{m.Key.KekVersion} in {m.Key.Store}"),
            ("durations", string.Create(CultureInfo.InvariantCulture, $"total {m.Durations.Total.TotalSeconds:0.00} s (snapshot {m.Durations.Snapshot.TotalSeconds:0.00}, verify {m.Durations.Verify.TotalSeconds:0.00}, upload {m.Durations.Upload.TotalSeconds:0.00})")),
            ("tool", m.ToolVersion),
        };
        foreach (var (name, value) in lines)
        {
            await writer.WriteLineAsync($"{name + ":",-16} {value}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Detail(VerificationCheck check) =>
        check.Detail ?? (check.Expected is null && check.Actual is null ? "" : check.Passed ? check.Actual ?? "" : $"expected {check.Expected}, got {check.Actual}");

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB"),
    };
}
