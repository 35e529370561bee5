using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Scheduling;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup backup status</c>: per cluster the newest backup, its age, the next scheduled run and whether
/// it is fresh; exit code 1 when any cluster is stale, so cron jobs and probes can run it as a check.
/// </summary>
internal static class BackupStatusCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var command = new Command("status", "Show each cluster's newest backup and whether it is fresh; exit 1 when any is stale (older than Clusters:C:MaxAge, default twice the schedule interval).")
        {
            config, cluster, output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var now = app.Time.GetUtcNow();
            var results = new List<ClusterFreshness>();
            foreach (var name in app.SelectClusters(parse.GetValue(cluster)))
            {
                var latest = await app.Catalog.GetLatestAsync(name, ct).ConfigureAwait(false);
                results.Add(BackupFreshness.Evaluate(name, app.Options.GetCluster(name), latest, now));
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, results.Select(r => new
                {
                    cluster = r.Cluster,
                    state = r.State,
                    reason = r.Reason,
                    evaluatedAt = r.EvaluatedAt,
                    lastBackup = r.LastBackupId is null ? null : new { backupId = r.LastBackupId, created = r.LastBackupTime, ageSeconds = (long?)r.Age?.TotalSeconds },
                    maxAgeSeconds = (long?)r.MaxAge?.TotalSeconds,
                    maxAgeSource = r.MaxAgeSource,
                    schedule = r.Schedule,
                    nextScheduledRun = r.NextScheduledRun,
                }), ct).ConfigureAwait(false);
            }
            else
            {
                var table = new TextTable("CLUSTER", "STATE", "LAST BACKUP (UTC)", "AGE", "BACKUP ID", "MAX AGE", "NEXT RUN (UTC)");
                foreach (var r in results)
                {
                    table.AddRow(r.Cluster, r.State.ToString().ToLowerInvariant(), Time(r.LastBackupTime),
                        r.Age is { } age ? BackupFreshness.Describe(age) : "-", r.LastBackupId ?? "-",
                        r.MaxAge is { } max ? $"{BackupFreshness.Describe(max)} ({r.MaxAgeSource})" : "-", Time(r.NextScheduledRun));
                }

                await table.WriteAsync(console.Out, ct).ConfigureAwait(false);
            }

            var stale = results.Where(r => r.State == FreshnessState.Stale).ToList();
            if (stale.Count > 0)
            {
                await console.Error.WriteLineAsync($"error: stale: {string.Join("; ", stale.Select(r => $"{r.Cluster}: {r.Reason}"))}").ConfigureAwait(false);
                return CommandAction.Failure;
            }

            return 0;
        });
        return command;
    }

    private static string Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
}
