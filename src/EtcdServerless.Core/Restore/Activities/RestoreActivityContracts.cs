namespace EtcdServerless.Core.Restore.Activities;

/// <summary>Input of <see cref="ResolveBackupActivity"/>.</summary>
internal sealed record ResolveBackupInput(string Cluster, string Backup, string? FromFile = null, bool SkipHashCheck = false);

/// <summary>The backup, or why it cannot be used (an expected failure, so a result rather than an exception).</summary>
internal sealed record ResolveBackupOutput(RestoreBackupInfo? Backup, string? Error, IReadOnlyList<string> Checks);

/// <summary>Input of <see cref="PreflightMemberActivity"/>.</summary>
internal sealed record PreflightInput(RestoreTargetMember Member, long SnapshotSize);

/// <summary>One agent's preflight: the summary, and what makes the member unfit (empty = ready).</summary>
internal sealed record PreflightOutput(string Name, AgentPreflightSummary? Preflight, IReadOnlyList<string> Problems);

/// <summary>Input of the per-member steps stop, start and rollback.</summary>
internal sealed record MemberStepInput(string RestoreId, RestoreTargetMember Member);

/// <summary>Input of <see cref="RestoreMemberActivity"/>.</summary>
internal sealed record RestoreMemberInput(
    string RestoreId,
    string ArtifactName,
    string SnapshotSha256,
    long SnapshotSize,
    RestoreTargetMember Member,
    MemberRestoreRequest Request)
{
    /// <summary>True when the snapshot was already streamed to the agent (<see cref="DistributeSnapshotActivity"/>): restore only.</summary>
    public bool SnapshotDelivered { get; init; }
}

/// <summary>Outcome of one per-member step.</summary>
internal sealed record MemberStepOutput
{
    public required string Name { get; init; }

    public required RestoreMemberStep Step { get; init; }

    /// <summary>The agent's state after the step (camelCase), or <c>unknown</c> when it could not be asked.</summary>
    public required string State { get; init; }

    public string? Error { get; init; }

    /// <summary>Live keys of the uploaded snapshot, as the agent counted them (restore step only).</summary>
    public long? SnapshotLiveKeys { get; init; }

    public bool Succeeded => Error is null;
}

/// <summary>Input of <see cref="VerifyClusterActivity"/>.</summary>
internal sealed record VerifyInput(string Cluster, IReadOnlyList<RestoreTargetMember> Members, long ExpectedRevision, long? ExpectedKeyCount);
