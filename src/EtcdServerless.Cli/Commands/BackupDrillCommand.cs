using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Drills;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup backup drill ID|latest</c>: a restore drill (decrypt, <c>snapshot restore</c> with etcd's own tool, a
/// throwaway member on loopback, every figure compared, everything removed), on the cluster's agent when
/// <c>Clusters:C:Drill:AgentUrl</c> is set (<see cref="AgentBackupDrill"/>), on this machine otherwise
/// (<see cref="BackupDrill"/>). Exit 0 only when every check passed; the outcome is recorded beside the manifest.
/// </summary>
internal static class BackupDrillCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var id = new Argument<string>("ID") { Description = "A backup id (see backup list), or 'latest'." };
        var command = new Command("drill",
            "Prove a backup restorable: restore it with etcd's own tool into a scratch folder, start a throwaway member on loopback, compare revision, keys, HashKV and a sample of keys, then remove everything. Runs on the cluster's agent when Clusters:C:Drill:AgentUrl is set, on this machine otherwise.")
        {
            id, config, cluster, output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var manifest = await BackupBrowseCommands.ResolveAsync(app, parse.GetValue(id)!, parse.GetValue(cluster), ct).ConfigureAwait(false);
            // Through the cluster's agent when Clusters:C:Drill:AgentUrl is set (etcd need not be installed here), locally otherwise.
            var logger = session.LoggerFactory.CreateLogger<BackupDrill>();
            var drill = BackupDrills.For(app.Options, manifest.Cluster, app.Store, app.Keys, app.Agents,
                new DrillOptions { TempDirectory = app.Environment.Pipeline.TempDirectory }, logger, app.Time);
            var where = drill is AgentBackupDrill ? $"on {drill.RanOn}" : "on this machine";
            var report = await new CliProgress(console).StepAsync($"drilling {manifest.Cluster}/{manifest.BackupId} {where}",
                c => DrillRecorder.RunAndRecordAsync(drill, app.Store, manifest, logger, app.Time, c), ct).ConfigureAwait(false);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, report, ct).ConfigureAwait(false);
            }
            else
            {
                await WriteTableAsync(console.Out, report, ct).ConfigureAwait(false);
            }

            // A failed drill has already said why on stderr: its DrillFailed event is that one line.
            return report.Drill.Passed ? 0 : CommandAction.Failure;
        });
        return command;
    }

    /// <summary>One line about a backup's last drill, for <c>backup describe</c>.</summary>
    internal static string Summary(DrillResult? drill) => drill switch
    {
        null => "never",
        { Passed: true } => string.Create(CultureInfo.InvariantCulture,
            $"passed {drill.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC ({drill.Checks.Count} checks, {drill.Duration.TotalSeconds:0.0} s, etcd {drill.EtcdVersion})"),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"FAILED {drill.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC at check {drill.FirstFailure?.Name}: {Detail(drill.FirstFailure!)}"),
    };

    private static async Task WriteTableAsync(TextWriter writer, DrillReport report, CancellationToken cancellationToken)
    {
        var drill = report.Drill;
        var table = new TextTable("CHECK", "RESULT", "EXPECTED", "ACTUAL", "TIME", "DETAIL");
        foreach (var check in drill.Checks)
        {
            table.AddRow(check.Name, check.Passed ? "ok" : "FAILED", check.Expected ?? "", check.Actual ?? "",
                string.Create(CultureInfo.InvariantCulture, $"{check.Duration.TotalSeconds:0.00} s"), check.Detail ?? "");
        }

        await table.WriteAsync(writer, cancellationToken).ConfigureAwait(false);
        await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"drill {drill.Outcome}: {drill.Cluster}/{drill.BackupId}, {drill.Checks.Count(c => c.Passed)}/{drill.Checks.Count} checks passed in {drill.Duration.TotalSeconds:0.0} s")).ConfigureAwait(false);
        await writer.WriteLineAsync($"ran on: {(drill.RanOn is BackupDrill.RanOnLocal ? "this machine (local etcd tools)" : drill.RanOn)}").ConfigureAwait(false);
        await writer.WriteLineAsync(report.Record is not null ? $"recorded: {report.Record}" : $"not recorded: {report.RecordError}").ConfigureAwait(false);
    }

    private static string Detail(DrillCheck check) =>
        check.Detail is { Length: > 0 } detail && !check.Passed && check.Expected is null ? detail : $"expected {check.Expected}, found {check.Actual}";
}
