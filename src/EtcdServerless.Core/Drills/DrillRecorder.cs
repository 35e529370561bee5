using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Drills;

/// <summary>A restore drill of one backup, wherever it runs (this machine, or a member's agent).</summary>
internal interface IBackupDrill
{
    /// <summary>Where it runs, as <see cref="DrillResult.RanOn"/> records it.</summary>
    string RanOn { get; }

    /// <summary>Runs the drill without recording it; failures are failed checks.</summary>
    Task<DrillResult> RunAsync(BackupManifest manifest, CancellationToken cancellationToken = default);
}

/// <summary>What every drill does with its outcome: log it (<c>DrillFailed</c> feeds the alerts) and record it beside the manifest.</summary>
internal static class DrillRecorder
{
    /// <summary>Runs <paramref name="drill"/>, logs its outcome and writes its record; a store that refuses the record is reported, not thrown.</summary>
    public static async Task<DrillReport> RunAndRecordAsync(
        IBackupDrill drill, IBackupStore store, BackupManifest manifest, ILogger logger, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(drill);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        var result = await drill.RunAsync(manifest, cancellationToken).ConfigureAwait(false);
        if (result.FirstFailure is { } failed)
        {
            logger.DrillFailed(result.Cluster, result.BackupId, failed.Name, failed.Detail ?? $"expected {failed.Expected}, found {failed.Actual}");
        }
        else
        {
            logger.DrillPassed(result.Cluster, result.BackupId, result.Checks.Count, result.Duration);
        }

        try
        {
            // As long as the backup it vouches for, never less than now (a past date would be refused by some stores).
            var now = time.GetUtcNow();
            var retainUntil = manifest.Artifact.RetainUntil is { } until ? (until > now ? until : now) : (DateTimeOffset?)null;
            var stored = await DrillRecords.WriteAsync(store, result, retainUntil, cancellationToken).ConfigureAwait(false);
            return new DrillReport(result, stored.Name, null);
        }
        catch (BackupStoreException ex)
        {
            logger.DrillRecordNotWritten(result.Cluster, result.BackupId, ex.Message);
            return new DrillReport(result, null, ex.Message);
        }
    }
}
