using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Workflows.Http;
using EtcdServerless.Workflows.Instances;
using Microsoft.DurableTask.Client;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Cli.Commands;

/// <summary><c>etcd-backup restore run</c>: restore a whole cluster from a backup through the member agents.</summary>
internal static class RestoreCommands
{
    public static Command Create(CliConsole console)
    {
        var restore = new Command("restore", "Restore a whole cluster from a backup through the member agents.");
        restore.Subcommands.Add(Run(console));
        return restore;
    }

    private static Command Run(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = new Option<string>("--cluster") { Description = "The cluster to restore (its configured members and agents are the targets).", Required = true };
        var backup = new Option<string?>("--backup") { Description = "Backup id, or 'latest' (or give --from-file, or --to-revision/--to-time)." };
        var fromFile = new Option<FileInfo?>("--from-file") { Description = "Restore from a plain snapshot file (etcdctl snapshot save, or any tool) instead of a backup: its sha256 trailer and bbolt structure are checked first." };
        var skipHashCheck = new Option<bool>("--skip-hash-check") { Description = "With --from-file: accept a db without etcd's sha256 trailer (copied out of a data dir), as etcdctl does." };
        var toRevision = new Option<long?>("--to-revision") { Description = "Point in time: restore this revision, materialized from the newest full backup before it and the delta segments after it." };
        var toTime = new Option<string?>("--to-time") { Description = "Point in time: restore the newest revision captured by this UTC time (ISO 8601)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Plan only: resolve the backup, check the key, preflight every agent; change nothing." };
        var confirm = new Option<string?>("--confirm") { Description = "The cluster name again, to confirm that its data will be replaced (required unless --dry-run)." };
        var reason = new Option<string?>("--reason") { Description = "Why the restore runs (kept in the result)." };
        var token = new Option<string?>("--new-cluster-token") { Description = "Token of the restored cluster (default: a fresh one, giving new member and cluster IDs)." };
        var members = new Option<FileInfo?>("--members")
        {
            Description = "JSON file of target members (new names, peer/client/agent URLs: migration), as the HTTP API's 'members': [{\"name\",\"peerUrl\",\"clientUrl\",\"agentUrl\"}]. Default: the cluster's configured members.",
        };
        var forceVersion = new Option<bool>("--force-version") { Description = "Restore even into an etcd older (major/minor) than the one that wrote the backup." };
        var restoreBundle = new Option<bool>("--restore-bundle") { Description = "Also put the backup's control-plane bundle back on every member before it starts (agents write only inside their Agent:Bundle:Paths)." };
        var output = CommonOptions.Output();
        var run = new Command("run", "Stop every member, restore each from the same snapshot, start them together, verify; roll back on failure before start.")
        {
            config, cluster, backup, fromFile, skipHashCheck, toRevision, toTime, dryRun, confirm, reason, token, members, forceVersion, restoreBundle, output,
        };
        run.Validators.Add(result =>
        {
            var hasBackup = result.GetValue(backup) is not null;
            var hasFile = result.GetValue(fromFile) is not null;
            var hasPointInTime = result.GetValue(toRevision) is not null || result.GetValue(toTime) is not null;
            if ((hasBackup ? 1 : 0) + (hasFile ? 1 : 0) + (hasPointInTime ? 1 : 0) != 1)
            {
                result.AddError("give one of --backup ID|latest, --from-file FILE.db, or --to-revision/--to-time for a point in time");
            }
            else if (result.GetValue(skipHashCheck) && !hasFile)
            {
                result.AddError("--skip-hash-check only applies to --from-file");
            }
        });
        CommandAction.Set(run, console, async (parseResult, cancellationToken) =>
        {
            var session = CliSession.Open(parseResult, config, console);
            await using (session.ConfigureAwait(false))
            {
                var app = session.Application;
                var (revision, time) = parseResult.GetValue(toRevision) is null && parseResult.GetValue(toTime) is null
                    ? ((long?)null, (DateTimeOffset?)null)
                    : BackupDeltasCommands.Target(parseResult.GetValue(toRevision), parseResult.GetValue(toTime));
                var apiRequest = new RestoreApiRequest
                {
                    Cluster = parseResult.GetValue(cluster)!,
                    Backup = parseResult.GetValue(backup) ?? BackupNaming.Latest,
                    ToRevision = revision,
                    ToTime = time,
                    DryRun = parseResult.GetValue(dryRun),
                    Confirm = parseResult.GetValue(confirm),
                    Reason = parseResult.GetValue(reason),
                    NewClusterToken = parseResult.GetValue(token),
                    ForceVersion = parseResult.GetValue(forceVersion),
                    RestoreBundle = parseResult.GetValue(restoreBundle),
                    Members = parseResult.GetValue(members) is { } membersFile ? await ReadMembersAsync(membersFile, cancellationToken).ConfigureAwait(false) : [],
                };
                var format = parseResult.GetValue(output);
                var file = parseResult.GetValue(fromFile);
                var started = file is null
                    ? await app.StartRestoreAsync(apiRequest, cancellationToken).ConfigureAwait(false)
                    : await app.StartRestoreFromFileAsync(apiRequest, file.FullName, parseResult.GetValue(skipHashCheck), cancellationToken).ConfigureAwait(false);
                var state = await WaitWithProgressAsync(console, app.Gateway, started.InstanceId, format == OutputFormat.Table, cancellationToken).ConfigureAwait(false);
                if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
                {
                    throw new InvalidOperationException($"the restore orchestration {state.RuntimeStatus}: {state.FailureDetails?.ErrorMessage}");
                }

                var result = state.ReadOutputAs<RestoreResult>() ?? throw new InvalidOperationException("the restore orchestration returned no result");
                if (format == OutputFormat.Json)
                {
                    await console.Out.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(result, JsonOutput)).ConfigureAwait(false);
                }
                else
                {
                    await PrintAsync(console.Out, result).ConfigureAwait(false);
                }

                if (result.Outcome is RestoreOutcome.Succeeded or RestoreOutcome.Planned)
                {
                    return 0;
                }

                await console.Error.WriteLineAsync($"error: restore {Describe(result.Outcome)} in phase {result.Phase}: {result.Error}").ConfigureAwait(false);
                return CommandAction.Failure;
            }
        });
        return run;
    }

    /// <summary>The members file through the HTTP body's own validator; every bad field in one line.</summary>
    private static async Task<IReadOnlyList<RestoreApiMember>> ReadMembersAsync(FileInfo file, CancellationToken cancellationToken)
    {
        if (!file.Exists)
        {
            throw new FileNotFoundException($"--members: file '{file.FullName}' does not exist");
        }

        var (list, errors) = RestoreRequestReader.ReadMembers(await File.ReadAllBytesAsync(file.FullName, cancellationToken).ConfigureAwait(false));
        return errors.Count == 0
            ? list
            : throw new ArgumentException($"--members {file.Name}: {string.Join("; ", errors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))}");
    }

    private static readonly System.Text.Json.JsonSerializerOptions JsonOutput = new(OrchestrationJson.Options) { WriteIndented = true };

    private static string Describe(RestoreOutcome outcome) => outcome switch
    {
        RestoreOutcome.Rejected => "rejected (nothing was touched)",
        RestoreOutcome.RolledBack => "failed and was rolled back",
        _ => "failed",
    };

    /// <summary>Waits for the end, printing each phase change and member state change (table mode) as it happens.</summary>
    private static async Task<OrchestrationMetadata> WaitWithProgressAsync(CliConsole console, WorkflowGateway gateway, string instanceId, bool print, CancellationToken cancellationToken)
    {
        var completion = gateway.WaitForCompletionAsync(instanceId, cancellationToken);
        string? last = null;
        while (true)
        {
            var finished = await Task.WhenAny(completion, Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken)).ConfigureAwait(false) == completion;
            var status = await gateway.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
            var progress = status?.ReadCustomStatusAs<RestoreProgress>();
            if (print && progress is not null)
            {
                var line = $"[{progress.Phase}] " + string.Join("  ", progress.Members.Select(m => $"{m.Key}={m.Value}"));
                if (line != last)
                {
                    await console.Out.WriteLineAsync(line).ConfigureAwait(false);
                    last = line;
                }
            }

            if (finished)
            {
                return await completion.ConfigureAwait(false);
            }
        }
    }

    private static async Task PrintAsync(TextWriter o, RestoreResult result)
    {
        var c = CultureInfo.InvariantCulture;
        if (result.Plan is { } plan)
        {
            await o.WriteLineAsync().ConfigureAwait(false);
            await o.WriteLineAsync(string.Create(c, $"Plan {plan.RestoreId}: cluster {plan.Cluster} from backup {plan.Backup.BackupId}")).ConfigureAwait(false);
            if (plan.PointInTime is { } chain)
            {
                await o.WriteLineAsync($"  chain      {chain}").ConfigureAwait(false);
            }

            await o.WriteLineAsync(string.Create(c, $"  snapshot   revision {plan.Backup.Revision}, {plan.Backup.SnapshotSize:N0} bytes, sha256 {plan.Backup.SnapshotSha256}, key {plan.Backup.Kek}")).ConfigureAwait(false);
            await o.WriteLineAsync($"  token      {plan.Token}").ConfigureAwait(false);
            await o.WriteLineAsync($"  cluster    {plan.InitialCluster}").ConfigureAwait(false);
            await o.WriteLineAsync(string.Create(c, $"  {"MEMBER",-10} {"AGENT",-28} {"ETCD",-8} {"TOOL",-8} {"FREE",16} {"RUNNING",-7} DATA DIR")).ConfigureAwait(false);
            foreach (var m in plan.Members)
            {
                var p = m.Preflight;
                await o.WriteLineAsync(string.Create(c, $"  {m.Member.Name,-10} {m.Member.AgentUrl,-28} {p?.EtcdVersion ?? "?",-8} {p?.RestoreTool ?? "?",-8} {p?.FreeBytes ?? 0,16:N0} {(p?.MemberRunning ?? false),-7} {p?.DataDir}")).ConfigureAwait(false);
            }

            foreach (var m in plan.Members)
            {
                await o.WriteLineAsync($"  {m.Member.Name}: {m.Command}").ConfigureAwait(false);
            }

            foreach (var check in plan.Checks)
            {
                await o.WriteLineAsync($"  check {check}").ConfigureAwait(false);
            }
        }

        if (result.Members.Any(m => m.Steps.Count > 0))
        {
            await o.WriteLineAsync().ConfigureAwait(false);
            await o.WriteLineAsync(string.Create(c, $"  {"MEMBER",-10} {"STATE",-12} STEPS")).ConfigureAwait(false);
            foreach (var m in result.Members)
            {
                var steps = string.Join(", ", m.Steps.Select(s => string.Create(c, $"{s.Name} {(s.Succeeded ? "ok" : "FAILED")} {s.DurationMs / 1000:F1}s")));
                await o.WriteLineAsync(string.Create(c, $"  {m.Name,-10} {m.State,-12} {steps}")).ConfigureAwait(false);
            }
        }

        if (result.Verification is { } v)
        {
            await o.WriteLineAsync(string.Create(c, $"  verify     {(v.Succeeded ? "ok" : "FAILED")}: {v.MembersUp} up, {v.Leaders} leader, revision {v.Revision} (expected {v.ExpectedRevision}), {v.KeyCount} keys (expected {v.ExpectedKeyCount}), HashKV {string.Join("/", v.HashKv.Values.Distinct())}")).ConfigureAwait(false);
        }

        var took = (result.Finished - result.Started).TotalSeconds;
        await o.WriteLineAsync(string.Create(c, $"Result: {result.Outcome} (phase {result.Phase}, {took:F1}s){(result.Error is null ? "" : ": " + result.Error)}")).ConfigureAwait(false);
    }
}
