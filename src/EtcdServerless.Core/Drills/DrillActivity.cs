using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Drills;

/// <summary>Input of the drill orchestration: which backup (an id or <c>latest</c>) of which cluster, and why.</summary>
internal sealed record DrillRequest(string Cluster, string Backup, BackupTrigger Trigger, DateTimeOffset RequestedAt);

/// <summary>Output of the drill orchestration: the drill and where its record went, or why no drill ran.</summary>
internal sealed record DrillRunResult
{
    public required string Cluster { get; init; }

    /// <summary>The drilled backup; null when none could be resolved.</summary>
    public string? BackupId { get; init; }

    /// <summary>True when the drill ran and every check passed.</summary>
    public required bool Succeeded { get; init; }

    public required string Message { get; init; }

    /// <summary>The drill, when one ran (its record's content).</summary>
    public DrillResult? Drill { get; init; }

    /// <summary>The record's object name in the store, when it was written.</summary>
    public string? Record { get; init; }

    /// <summary>Why the record could not be written.</summary>
    public string? RecordError { get; init; }
}

/// <summary>
/// The drill as one activity: resolve the backup, drill it where the cluster's drills run (its agent, or here), log
/// the outcome (<c>DrillFailed</c>) and record it beside the manifest. A missing backup is a result, not a fault.
/// </summary>
internal sealed class DrillActivity(
    IBackupStore store,
    IKeyStore keys,
    EtcdBackupOptions options,
    BackupPipelineOptions pipeline,
    TimeProvider time,
    ILoggerFactory loggers,
    AgentClient? agents = null) : IActivity<DrillRequest, DrillRunResult>
{
    public const string ActivityName = "DrillBackup";

    public string Name => ActivityName;

    public async Task<DrillRunResult> RunAsync(DrillRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var logger = loggers.CreateLogger<DrillActivity>();
        BackupManifest? manifest;
        try
        {
            BackupNaming.ValidateCluster(input.Cluster);
            if (!BackupNaming.TryParseReference(input.Backup, out var latest, out var referenceError))
            {
                return Failed(input, null, referenceError);
            }

            var catalog = new BackupCatalog(store, time);
            manifest = latest
                ? await catalog.GetLatestAsync(input.Cluster, cancellationToken).ConfigureAwait(false)
                : await catalog.GetAsync(input.Cluster, input.Backup, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or BackupObjectNotFoundException or InvalidDataException)
        {
            return Failed(input, null, ex.Message);
        }

        if (manifest is null)
        {
            return Failed(input, null, $"cluster '{input.Cluster}' has no backup to drill in {store.Description}");
        }

        IBackupDrill drill;
        try
        {
            drill = BackupDrills.For(options, input.Cluster, store, keys, agents, new DrillOptions { TempDirectory = pipeline.TempDirectory }, logger, time);
        }
        catch (InvalidOperationException ex)
        {
            return Failed(input, manifest.BackupId, ex.Message);
        }

        var report = await DrillRecorder.RunAndRecordAsync(drill, store, manifest, logger, time, cancellationToken).ConfigureAwait(false);
        var result = report.Drill;
        return new DrillRunResult
        {
            Cluster = input.Cluster,
            BackupId = manifest.BackupId,
            Succeeded = result.Passed,
            Message = result.FirstFailure is { } failed
                ? $"drill of {manifest.BackupId} failed at check {failed.Name} ({result.RanOn}): {failed.Detail ?? $"expected {failed.Expected}, found {failed.Actual}"}"
                : $"drill of {manifest.BackupId} passed: {result.Checks.Count} checks ({result.RanOn})",
            Drill = result,
            Record = report.Record,
            RecordError = report.RecordError,
        };
    }

    private static DrillRunResult Failed(DrillRequest input, string? backupId, string message) =>
        new() { Cluster = input.Cluster, BackupId = backupId, Succeeded = false, Message = message };
}
