using System.CommandLine;
using System.Globalization;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Deltas;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// <c>etcd-backup backup deltas</c> (capture one delta segment per cluster now) and <c>backup materialize</c> (the
/// snapshot of a cluster at a revision or time, from a full backup and the segments after it).
/// </summary>
internal static class BackupDeltasCommands
{
    public static void AddTo(Command backup, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(backup);
        backup.Subcommands.Add(Deltas(console));
        backup.Subcommands.Add(Materialize(console));
    }

    private static Command Deltas(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var output = CommonOptions.Output();
        var command = new Command("deltas",
            "Capture one delta segment of each configured cluster (or --cluster): every revision since the last one captured, up to the cluster's current revision. A compaction gap is reported and a full backup taken at once.")
        {
            config, cluster, output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var progress = new CliProgress(console);
            var results = new List<DeltaRunReport>();
            var failed = false;
            foreach (var name in app.SelectClusters(parse.GetValue(cluster)))
            {
                var capture = new DeltaCapture(app.Environment);
                var result = await progress.StepAsync($"capturing deltas of {name}", c => capture.RunAsync(new DeltaCaptureRequest(name), c), r => r.Succeeded, ct).ConfigureAwait(false);
                BackupResult? full = null;
                if (result.NeedsFullBackup)
                {
                    await console.Error.WriteLineAsync(result.GapDetected
                        ? $"error: delta chain of '{name}' is broken: {result.Message}; taking a full backup now"
                        : $"note: {result.Message} of '{name}'; taking a full backup now").ConfigureAwait(false);
                    full = await progress.StepAsync($"backing up {name} to {app.Store.Description}",
                        c => app.RunBackupAsync(name, BackupTrigger.OnDemand, c), r => r.Succeeded, ct).ConfigureAwait(false);
                    if (!full.Succeeded)
                    {
                        await console.Error.WriteLineAsync($"error: full backup of '{name}' failed: {full.Message}").ConfigureAwait(false);
                    }
                }
                else if (!result.Succeeded)
                {
                    await console.Error.WriteLineAsync($"error: delta capture of '{name}' failed: {result.Message}").ConfigureAwait(false);
                }

                // A gap is a failure even when the full backup closed it: the recovery point was missed meanwhile.
                failed |= result.GapDetected || (!result.Succeeded && full is not { Succeeded: true });
                results.Add(new DeltaRunReport(result, full?.Manifest?.BackupId));
            }

            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, results.Count == 1 ? results[0] : (object)results, ct).ConfigureAwait(false);
            }
            else
            {
                var table = new TextTable("CLUSTER", "SEGMENT", "REVISIONS", "EVENTS", "SIZE", "COVERED TO", "RESULT");
                foreach (var (r, fullBackup) in results)
                {
                    var s = r.Segment;
                    table.AddRow(r.Cluster, s?.SegmentId ?? "-", s is null ? "-" : Invariant(s.Revisions), s is null ? "-" : Invariant(s.Events),
                        s is null ? "-" : Invariant(s.Artifact.Size), Invariant(r.CoveredRevision),
                        fullBackup is null ? r.Message ?? "" : $"{r.Message}; full backup {fullBackup}");
                }

                await table.WriteAsync(console.Out, ct).ConfigureAwait(false);
            }

            return failed ? CommandAction.Failure : 0;
        });
        return command;
    }

    private static Command Materialize(CliConsole console)
    {
        var config = CommonOptions.Config();
        var cluster = CommonOptions.Cluster();
        var toRevision = new Option<long?>("--to-revision") { Description = "The revision the snapshot ends at." };
        var toTime = new Option<string?>("--to-time") { Description = "A UTC time (ISO 8601, e.g. 2026-11-30T21:00:00Z): the newest revision captured by then." };
        var file = new Option<FileInfo>("--output", "-o") { Description = "The snapshot file to write (created with mode 0600).", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite the file if it exists." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show the chain: the full backup and the segments that would be replayed." };
        var onDisk = new Option<bool>("--on-disk") { Description = "Keep the throwaway member on disk even when memory allows (by default it runs in /dev/shm when twice the backup and the replay fit with 1 GiB to spare, about twice as fast)." };
        var command = new Command("materialize",
            "Write the snapshot of a cluster at a revision or time: the newest full backup before it, restored into a throwaway loopback etcd, the delta segments replayed one transaction per revision up to the target, then saved.")
        {
            config, cluster, toRevision, toTime, file, force, dryRun, onDisk,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console);
            await using var disposeSession = session.ConfigureAwait(false);
            var app = session.Application;
            var name = app.SelectClusters(parse.GetValue(cluster)) is [var only] ? only
                : throw new ArgumentException("--cluster is required when more than one cluster is configured");
            var (revision, time) = Target(parse.GetValue(toRevision), parse.GetValue(toTime));
            var destination = parse.GetValue(file)!.FullName;
            if (!parse.GetValue(force) && File.Exists(destination))
            {
                throw new IOException($"'{destination}' already exists (use --force to overwrite it)");
            }

            var materializer = new DeltaMaterializer(app.Store, app.Keys,
                new MaterializeOptions { TempDirectory = app.Environment.Pipeline.TempDirectory, MemberInMemory = !parse.GetValue(onDisk) },
                session.LoggerFactory.CreateLogger<DeltaMaterializer>());
            var plan = await materializer.PlanAsync(name, revision, time, ct).ConfigureAwait(false);
            await console.Out.WriteLineAsync($"chain: {plan.Describe()}").ConfigureAwait(false);
            if (parse.GetValue(dryRun))
            {
                return 0;
            }

            var result = await new CliProgress(console).StepAsync($"materializing {name} at revision {plan.TargetRevision}",
                c => materializer.MaterializeAsync(plan, destination, c), ct).ConfigureAwait(false);
            await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"materialized {name} at revision {result.Revision} ({result.RevisionsReplayed} revisions, {result.EventsReplayed} events replayed on {plan.Base.BackupId}) to {result.Path}, {result.Size} bytes in {result.Duration.TotalSeconds:0.0} s")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Exactly one of <c>--to-revision</c> and <c>--to-time</c>.</summary>
    internal static (long? Revision, DateTimeOffset? Time) Target(long? revision, string? time)
    {
        if (revision is null == time is null)
        {
            throw new ArgumentException("give exactly one of --to-revision and --to-time");
        }

        if (revision is { } r)
        {
            return r >= 1 ? (r, null) : throw new ArgumentException($"--to-revision must be at least 1 (got {r})");
        }

        return DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? (null, t)
            : throw new ArgumentException($"--to-time '{time}' is not a time (use ISO 8601 such as 2026-11-30T21:00:00Z)");
    }

    /// <summary>The cluster's delta coverage (unbroken revision ranges of its segments).</summary>
    internal static async Task<IReadOnlyList<DeltaCoverageRange>> CoverageAsync(BackupApplication app, string cluster, CancellationToken cancellationToken) =>
        DeltaCoverage.Compute(await new DeltaCatalog(app.Store, app.Keys).ListAsync(cluster, cancellationToken).ConfigureAwait(false));

    /// <summary>One line per cluster with segments: the revisions and times they cover, and the gaps between.</summary>
    internal static async Task WriteCoverageAsync(TextWriter writer, IReadOnlyDictionary<string, IReadOnlyList<DeltaCoverageRange>> coverage, CancellationToken cancellationToken)
    {
        foreach (var (cluster, ranges) in coverage.Where(c => c.Value.Count > 0).OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var parts = ranges.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"revisions {r.FromRevision}-{r.ToRevision} (captured {r.FirstCaptured.UtcDateTime:yyyy-MM-dd HH:mm:ss} to {r.LastCaptured.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, {r.Segments} segment(s))"));
            var gaps = ranges.Zip(ranges.Skip(1), (a, b) => string.Create(CultureInfo.InvariantCulture, $"{a.ToRevision + 1}-{b.FromRevision - 1}")).ToList();
            await writer.WriteLineAsync($"deltas of {cluster}: {string.Join("; ", parts)}{(gaps.Count == 0 ? "; no gaps" : $"; GAPS: revisions {string.Join(", ", gaps)}")}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One cluster's run: the capture's result and, when one was taken, the full backup it triggered.</summary>
    internal sealed record DeltaRunReport(DeltaCaptureResult Capture, string? FullBackupId);
}
