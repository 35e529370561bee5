using System.CommandLine;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Retention;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup backup delete ID [--cluster NAME]</c>: deletes one backup (manifest, then artifact) when
/// retention's safety rules and the store's immutability allow it, and refuses with the reason otherwise.
/// </summary>
internal static class BackupDeleteCommand
{
    // Every count and tier at zero: what the policy still keeps is kept by the rules no option turns off
    // (the newest verified backup, the last good backup before a key-count drop).
    private static readonly RetentionOptions s_safetyRulesOnly = new() { KeepLast = 0, Hourly = 0, Daily = 0, Weekly = 0, Monthly = 0 };

    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var id = new Argument<string>("ID") { Description = "The backup id or name (see backup list)." };
        var command = new Command("delete", "Delete one backup where retention and immutability allow; refuse with the reason where not.") { id, config, cluster, output };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var manifest = await BackupNames.FindAsync(app, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            var all = await app.Catalog.ListAsync(manifest.Cluster, ct).ConfigureAwait(false);
            var safety = new RetentionPolicy(s_safetyRulesOnly, app.Time).Plan(all).Decisions.FirstOrDefault(d => d.BackupId == manifest.BackupId);
            string? refusal = null;
            string? detail = null;
            if (safety is { Keep: true })
            {
                refusal = $"retention keeps it ({string.Join("; ", safety.Reasons)})";
            }
            else
            {
                var plan = new RetentionPlan([new RetentionDecision(manifest, Keep: false, ["deleted on request (backup delete)"])]);
                var result = await new RetentionExecutor(app.Catalog, app.Time).ExecuteAsync(plan, dryRun: false, ct).ConfigureAwait(false);
                if (result.SkippedImmutable.Count > 0)
                {
                    var skip = result.SkippedImmutable[0];
                    refusal = $"it is immutable until {skip.RetainUntil.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC";
                }
                else if (result.OrphanedArtifacts.Count > 0)
                {
                    detail = $"the manifest is gone but the artifact {result.OrphanedArtifacts[0]} could not be deleted yet";
                }
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, new { backupId = manifest.BackupId, cluster = manifest.Cluster, deleted = refusal is null, refused = refusal, warning = detail }, ct)
                    .ConfigureAwait(false);
            }
            else if (refusal is null)
            {
                await console.Out.WriteLineAsync($"deleted {manifest.BackupId} ({manifest.Cluster})").ConfigureAwait(false);
            }

            if (refusal is not null)
            {
                await console.Error.WriteLineAsync($"error: refused to delete backup {manifest.BackupId}: {refusal}").ConfigureAwait(false);
                return CommandAction.Failure;
            }

            if (detail is not null)
            {
                await console.Error.WriteLineAsync($"warning: {detail}").ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
