using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Monitoring;
using EtcdServerless.Core.Scheduling;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup backup status</c>: per cluster the newest backup, its age, the newest failure and why, the newest
/// restore drill, the next scheduled run and whether it is fresh; exit code 1 when any cluster is stale, so cron jobs
/// and probes can run it as a check.
/// </summary>
internal static class BackupStatusCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var command = new Command("status", "Show each cluster's newest backup, last failure, last drill and whether it is fresh; exit 1 when any is stale (older than Clusters:C:MaxAge, default twice the schedule interval).")
        {
            config, cluster, output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var reader = new BackupStatusReader(app.Store, app.Options, app.Time);
            var statuses = new List<ClusterStatus>();
            foreach (var name in app.SelectClusters(parse.GetValue(cluster)))
            {
                statuses.Add(await reader.ReadAsync(name, ct).ConfigureAwait(false));
            }

            var results = statuses.Select(s => s.Freshness).ToList();
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, statuses.Select(s => new
                {
                    cluster = s.Freshness.Cluster,
                    state = s.Freshness.State,
                    reason = s.Freshness.Reason,
                    evaluatedAt = s.Freshness.EvaluatedAt,
                    lastBackup = s.Freshness.LastBackupId is null ? null : new { backupId = s.Freshness.LastBackupId, created = s.Freshness.LastBackupTime, ageSeconds = (long?)s.Freshness.Age?.TotalSeconds },
                    lastFailure = s.LastFailure is not { } f ? null : new
                    {
                        failed = f.Failed,
                        ageSeconds = (long)(s.Freshness.EvaluatedAt - f.Failed).TotalSeconds,
                        phase = f.Phase,
                        reason = f.Reason,
                        trigger = f.Trigger,
                        instanceId = f.InstanceId,
                    },
                    failingSinceLastSuccess = s.FailingSinceLastSuccess,
                    lastDrill = s.LastDrill is not { } d ? null : new
                    {
                        backupId = d.BackupId,
                        started = d.Started,
                        outcome = d.Outcome,
                        failedCheck = d.FirstFailure?.Name,
                    },
                    lastDelta = s.LastDelta is not { } dl ? null : new
                    {
                        segmentId = dl.SegmentId,
                        toRevision = dl.ToRevision,
                        captured = dl.Captured,
                        lagSeconds = (long?)s.DeltaLag?.TotalSeconds,
                    },
                    maxAgeSeconds = (long?)s.Freshness.MaxAge?.TotalSeconds,
                    maxAgeSource = s.Freshness.MaxAgeSource,
                    schedule = s.Freshness.Schedule,
                    nextScheduledRun = s.Freshness.NextScheduledRun,
                    problems = s.Problems,
                }), ct).ConfigureAwait(false);
            }
            else
            {
                var table = new TextTable("CLUSTER", "STATE", "LAST BACKUP (UTC)", "AGE", "BACKUP ID", "MAX AGE", "NEXT RUN (UTC)", "LAST FAILURE (UTC)", "LAST DRILL (UTC)", "DELTA LAG");
                foreach (var s in statuses)
                {
                    var r = s.Freshness;
                    table.AddRow(r.Cluster, r.State.ToString().ToLowerInvariant(), Time(r.LastBackupTime),
                        r.Age is { } age ? BackupFreshness.Describe(age) : "-", r.LastBackupId ?? "-",
                        r.MaxAge is { } max ? $"{BackupFreshness.Describe(max)} ({r.MaxAgeSource})" : "-", Time(r.NextScheduledRun),
                        s.LastFailure is { } f ? $"{Time(f.Failed)} ({f.Phase})" : "-",
                        s.LastDrill is { } d ? $"{Time(d.Started)} ({d.Outcome})" : "-",
                        s.DeltaLag is { } lag ? $"{BackupFreshness.Describe(lag)} (r{s.LastDelta!.ToRevision})" : "-");
                }

                await table.WriteAsync(console.Out, ct).ConfigureAwait(false);

                // The reason does not fit a column: one line per cluster that has failed since its last good backup.
                foreach (var s in statuses.Where(s => s.FailingSinceLastSuccess))
                {
                    await console.Out.WriteLineAsync($"{s.Freshness.Cluster}: failing since the last good backup; last failure {Time(s.LastFailure!.Failed)} in {s.LastFailure.Phase}: {s.LastFailure.Reason}").ConfigureAwait(false);
                }

                foreach (var problem in statuses.SelectMany(s => s.Problems))
                {
                    await console.Error.WriteLineAsync($"warning: {problem}").ConfigureAwait(false);
                }
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
