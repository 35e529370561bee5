using EtcdServerless.Core.Monitoring;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>Input of the outcome step: how one backup ended (times are orchestration times, so replays agree).</summary>
internal sealed record BackupOutcome
{
    public required string Cluster { get; init; }

    public required bool Succeeded { get; init; }

    public required BackupTrigger Trigger { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset FinishedAt { get; init; }

    public string? InstanceId { get; init; }

    /// <summary>Failed backups: the phase and the reason.</summary>
    public string? Phase { get; init; }

    public string? Reason { get; init; }

    /// <summary>Successful backups: the manifest's creation time and the artifact's size.</summary>
    public DateTimeOffset? Created { get; init; }

    public long? ArtifactSize { get; init; }
}

/// <summary>Output of the outcome step.</summary>
/// <param name="Recorded">False when the failure record could not be written (the metrics were still recorded).</param>
/// <param name="RecordName">The failure record's object name.</param>
/// <param name="Message">Why it could not be written.</param>
internal sealed record BackupOutcomeRecorded(bool Recorded, string? RecordName = null, string? Message = null);

/// <summary>
/// The last step of every backup: records the outcome in the metrics (<see cref="BackupMetrics"/>) and, for a failed
/// backup, writes its append-only failure record (<see cref="BackupFailureRecords"/>) so <c>backup status</c> and the
/// freshness monitor can say when and why the last one failed. A store that refuses the record does not turn the
/// backup's result into something else: the outcome says so and the <c>BackupFailed</c> event is logged regardless.
/// </summary>
internal sealed class RecordBackupOutcomeActivity(BackupEnvironment environment, BackupMetrics? metrics = null) : IActivity<BackupOutcome, BackupOutcomeRecorded>
{
    public const string ActivityName = "Backup_RecordOutcome";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<RecordBackupOutcomeActivity>();

    public string Name => ActivityName;

    public async Task<BackupOutcomeRecorded> RunAsync(BackupOutcome input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var duration = input.FinishedAt - input.StartedAt;
        if (input.Succeeded)
        {
            metrics?.BackupSucceeded(input.Cluster, input.Created ?? input.FinishedAt, duration, input.ArtifactSize ?? 0);
            return new BackupOutcomeRecorded(true);
        }

        var phase = string.IsNullOrEmpty(input.Phase) ? "unknown" : input.Phase;
        metrics?.BackupFailed(input.Cluster, phase, input.FinishedAt, duration);
        var record = new BackupFailureRecord
        {
            Cluster = input.Cluster,
            Failed = input.FinishedAt,
            Started = input.StartedAt,
            Phase = phase,
            Reason = input.Reason ?? "",
            Trigger = input.Trigger.ToString(),
            InstanceId = input.InstanceId,
        };
        try
        {
            var name = await BackupFailureRecords.WriteAsync(environment.Store, record, cancellationToken).ConfigureAwait(false);
            return new BackupOutcomeRecorded(true, name);
        }
        catch (Exception ex) when (ex is BackupStoreException or IOException or UnauthorizedAccessException)
        {
            _logger.FailureRecordNotWritten(input.Cluster, ex.Message);
            return new BackupOutcomeRecorded(false, Message: ex.Message);
        }
    }
}
