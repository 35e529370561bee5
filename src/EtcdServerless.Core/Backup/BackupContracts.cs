using EtcdServerless.Core.Catalog;

namespace EtcdServerless.Core.Backup;

/// <summary>Why a backup runs.</summary>
internal enum BackupTrigger
{
    Scheduled,
    OnDemand,
}

/// <summary>Input of the backup orchestrator.</summary>
internal sealed record BackupRequest(string Cluster, BackupTrigger Trigger, DateTimeOffset RequestedAt);

/// <summary>
/// Output of the backup orchestrator. A failed backup is a result (with <see cref="Message"/>), not an
/// orchestration fault, so callers always get the cluster, the phase that failed and why.
/// </summary>
internal sealed record BackupResult
{
    public required string Cluster { get; init; }

    public required bool Succeeded { get; init; }

    /// <summary>What went wrong (failed backups) or a short summary.</summary>
    public string? Message { get; init; }

    /// <summary>The phase that failed: capture, manifest.</summary>
    public string? FailedPhase { get; init; }

    /// <summary>The committed manifest (successful backups).</summary>
    public BackupManifest? Manifest { get; init; }

    /// <summary>The key count fell sharply against the previous backup (the backup is kept and flagged).</summary>
    public bool KeyCountDropped { get; init; }

    /// <summary>What retention deleted, kept or warned about (null when it did not run).</summary>
    public RetentionOutcome? Retention { get; init; }

    /// <summary>The optional consistency check (null when not requested).</summary>
    public ConsistencyCheckResult? Consistency { get; init; }

    /// <summary>Non-fatal problems (members skipped, retention errors).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>Progress published as custom status.</summary>
internal sealed record BackupProgress(string Cluster, string Phase, string? BackupId = null, string? Detail = null);

/// <summary>Input of the capture activity.</summary>
/// <param name="Cluster">Configured cluster name.</param>
/// <param name="StartedAt">Orchestration time the backup started (names the backup).</param>
internal sealed record CaptureRequest(string Cluster, DateTimeOffset StartedAt);

/// <summary>Output of the capture activity: a committed, verified artifact, or an expected failure.</summary>
internal sealed record CaptureResult
{
    public required bool Succeeded { get; init; }

    public string? Message { get; init; }

    /// <summary>The artifact and the facts the manifest records (successful captures).</summary>
    public StagedArtifact? Artifact { get; init; }

    /// <summary>Members skipped or failed, and why (empty when the first member ranked delivered).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public static CaptureResult Failed(string message, IReadOnlyList<string>? problems = null) =>
        new() { Succeeded = false, Message = message, Problems = problems ?? [] };
}

/// <summary>Everything the manifest needs about a committed artifact.</summary>
internal sealed record StagedArtifact
{
    public required string BackupId { get; init; }

    public required DateTimeOffset Created { get; init; }

    public required SourceMemberInfo Source { get; init; }

    public required SnapshotInfo Snapshot { get; init; }

    public required ArtifactInfo Artifact { get; init; }

    public required KeyReference Key { get; init; }

    public required BackupDurations Durations { get; init; }
}

/// <summary>Input of the manifest activity.</summary>
internal sealed record WriteManifestRequest(string Cluster, StagedArtifact Artifact, DateTimeOffset StartedAt, DateTimeOffset Now);

/// <summary>Output of the manifest activity.</summary>
internal sealed record WriteManifestResult
{
    public required bool Succeeded { get; init; }

    public string? Message { get; init; }

    public BackupManifest? Manifest { get; init; }

    /// <summary>The previous backup's key count, when there was one.</summary>
    public long? PreviousTotalKey { get; init; }
}

/// <summary>Input of the retention activity.</summary>
internal sealed record RetentionRequest(string Cluster, string NewBackupId);

/// <summary>What retention did.</summary>
internal sealed record RetentionOutcome
{
    public IReadOnlyList<string> Deleted { get; init; } = [];

    /// <summary>Backups retention would have deleted but kept (immutable, or protected as the last good one before a key-count drop).</summary>
    public IReadOnlyList<string> Protected { get; init; } = [];

    public IReadOnlyList<string> Errors { get; init; } = [];
}

/// <summary>Input of the consistency check activity.</summary>
internal sealed record ConsistencyCheckRequest(string Cluster, long Revision);

/// <summary>HashKV of every member at one revision.</summary>
internal sealed record ConsistencyCheckResult
{
    public required bool Consistent { get; init; }

    /// <summary>True when the check is disabled (Backup:ConsistencyCheck false): nothing was compared.</summary>
    public bool Skipped { get; init; }

    public long Revision { get; init; }

    /// <summary>Endpoint to hash (or the error reaching it).</summary>
    public IReadOnlyDictionary<string, string> Members { get; init; } = new Dictionary<string, string>();

    public string? Message { get; init; }
}
