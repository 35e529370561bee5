namespace EtcdServerless.Core.Restore;

/// <summary>One member of the restored cluster: who it is and where its agent listens.</summary>
internal sealed record RestoreTargetMember
{
    /// <summary>etcd <c>--name</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Peer URL of the restored member (may differ from the backed-up cluster's: migration).</summary>
    public required string PeerUrl { get; init; }

    /// <summary>Client URL, used to verify the restored cluster.</summary>
    public required string ClientUrl { get; init; }

    /// <summary>The member's agent, e.g. <c>https://10.0.0.11:7443</c>.</summary>
    public required string AgentUrl { get; init; }
}

/// <summary>Input of the restore orchestrator (and of <c>POST /api/clusters/{cluster}/restores</c>).</summary>
internal sealed record RestoreRequest
{
    /// <summary>The cluster whose backup is restored (and whose TLS settings verify the result).</summary>
    public required string Cluster { get; init; }

    /// <summary>A backup id, or <c>latest</c>.</summary>
    public string Backup { get; init; } = "latest";

    /// <summary>The members to restore into; empty = the cluster's configured members.</summary>
    public IReadOnlyList<RestoreTargetMember> Members { get; init; } = [];

    /// <summary>The restored cluster's token; empty = a fresh one (new member and cluster IDs).</summary>
    public string? Token { get; init; }

    /// <summary>Plan only: resolve, check the key, preflight the agents, touch nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Must equal <see cref="Cluster"/> for a real run.</summary>
    public string? Confirm { get; init; }

    /// <summary>Why the restore runs (recorded in the result and logs).</summary>
    public string? Reason { get; init; }

    /// <summary>Revisions to add on top of the snapshot's (only where the agents' tool supports it).</summary>
    public long? BumpRevision { get; init; }

    /// <summary>The id the agents key their idempotent state on; empty = derived from the orchestration.</summary>
    public string? RestoreId { get; init; }

    /// <summary>Restore even into an etcd older (major/minor) than the one that wrote the backup.</summary>
    public bool ForceVersion { get; init; }

    /// <summary>Also put the backup's control-plane bundle back on every member, before the members start.</summary>
    public bool RestoreBundle { get; init; }

    /// <summary>
    /// Restore from this plain snapshot file (<c>etcdctl snapshot save</c> or any tool) instead of a backup; read by the
    /// host running the orchestration (the CLI), so never set from the HTTP API.
    /// </summary>
    public string? FromFile { get; init; }

    /// <summary>With <see cref="FromFile"/>: accept a file without etcd's sha256 trailer (a db copied out of a data dir).</summary>
    public bool SkipHashCheck { get; init; }

    /// <summary>Point in time: the revision to restore (materialized from a full backup and delta segments first).</summary>
    public long? ToRevision { get; init; }

    /// <summary>Point in time: the newest revision captured by this time.</summary>
    public DateTimeOffset? ToTime { get; init; }

    /// <summary>
    /// Checks what can be checked without I/O. Throws <see cref="ArgumentException"/> naming the field. Confirmation is
    /// checked only for real runs.
    /// </summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Cluster))
        {
            throw new ArgumentException("cluster is required.", nameof(Cluster));
        }

        if (string.IsNullOrWhiteSpace(Backup))
        {
            throw new ArgumentException("backup is required (a backup id or 'latest').", nameof(Backup));
        }

        if (!DryRun && !string.Equals(Confirm, Cluster, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                Confirm is null
                    ? $"confirm is required for a real restore: pass the cluster name ('{Cluster}') to confirm that its data will be replaced."
                    : $"confirm '{Confirm}' does not match the cluster name '{Cluster}'.",
                nameof(Confirm));
        }

        if (RestoreId is not null && !AgentProtocol.IsValidRestoreId(RestoreId))
        {
            throw new ArgumentException("restoreId must be 1-64 characters of letters, digits, '-', '_' or '.'.", nameof(RestoreId));
        }

        if (ToRevision is not null && ToTime is not null)
        {
            throw new ArgumentException("give toRevision or toTime, not both.", nameof(ToRevision));
        }

        if (ToRevision is < 1)
        {
            throw new ArgumentException("toRevision must be at least 1.", nameof(ToRevision));
        }

        if ((ToRevision is not null || ToTime is not null) && !Catalog.BackupNaming.IsLatest(Backup))
        {
            throw new ArgumentException("a point-in-time restore chooses its backup itself: give backup or toRevision/toTime, not both.", nameof(Backup));
        }

        if (BumpRevision is < 0)
        {
            throw new ArgumentException("bumpRevision must not be negative.", nameof(BumpRevision));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in Members)
        {
            if (string.IsNullOrWhiteSpace(member.Name) || !names.Add(member.Name))
            {
                throw new ArgumentException($"member names must be present and unique ('{member.Name}').", nameof(Members));
            }

            foreach (var (value, field) in new[] { (member.PeerUrl, "peerUrl"), (member.ClientUrl, "clientUrl"), (member.AgentUrl, "agentUrl") })
            {
                if (!Uri.TryCreate(value, UriKind.Absolute, out _))
                {
                    throw new ArgumentException($"member '{member.Name}': {field} '{value}' is not an absolute URL.", nameof(Members));
                }
            }
        }
    }
}

/// <summary>How a restore ended.</summary>
internal enum RestoreOutcome
{
    /// <summary>Dry run: the plan was made, nothing was touched.</summary>
    Planned,

    /// <summary>Restored, started and verified.</summary>
    Succeeded,

    /// <summary>Refused before anything was touched (bad input, unknown backup, key, unreachable agent...).</summary>
    Rejected,

    /// <summary>Failed before the start phase; every member was rolled back.</summary>
    RolledBack,

    /// <summary>Failed at or after the start phase (or the rollback failed): see each member's state.</summary>
    Failed,
}

/// <summary>The backup a restore uses, as the plan shows it.</summary>
internal sealed record RestoreBackupInfo
{
    public required string BackupId { get; init; }

    public required string ArtifactName { get; init; }

    public required DateTimeOffset Created { get; init; }

    public required string SnapshotSha256 { get; init; }

    public required long SnapshotSize { get; init; }

    public required long Revision { get; init; }

    public required long TotalKey { get; init; }

    public required string Kek { get; init; }

    public string SourceEtcdVersion { get; init; } = "";

    /// <summary>Bytes of the backup's control-plane bundle (tar); null when the backup has none.</summary>
    public long? BundleTarSize { get; init; }

    /// <summary>For a restore from a plain file: the file (its database part is streamed, then a fresh sha256 trailer).</summary>
    public string? SourceFile { get; init; }
}

/// <summary>What will happen on one member.</summary>
internal sealed record RestorePlanMember
{
    public required RestoreTargetMember Member { get; init; }

    /// <summary>The agent's preflight report, when it answered.</summary>
    public AgentPreflightSummary? Preflight { get; init; }

    /// <summary>The restore command the agent will run.</summary>
    public required string Command { get; init; }
}

/// <summary>The parts of an agent's preflight a plan shows.</summary>
internal sealed record AgentPreflightSummary(
    string? EtcdVersion,
    string? RestoreTool,
    bool SupportsBumpRevision,
    string DataDir,
    bool DataDirExists,
    long FreeBytes,
    bool EnoughSpace,
    bool MemberRunning,
    string ControlMode,
    string? HostId = null);

/// <summary>The plan: which backup, which members, which commands, which checks passed.</summary>
internal sealed record RestorePlan
{
    public required string Cluster { get; init; }

    public required string RestoreId { get; init; }

    public required RestoreBackupInfo Backup { get; init; }

    /// <summary>The token every member restores with (the same everywhere: member and cluster IDs derive from it).</summary>
    public required string Token { get; init; }

    /// <summary><c>name=peerUrl,...</c> of the restored cluster.</summary>
    public required string InitialCluster { get; init; }

    public required IReadOnlyList<RestorePlanMember> Members { get; init; }

    /// <summary>
    /// The order the snapshot reaches the members (<see cref="RestoreDistribution"/>): each wave's members receive it
    /// at once, and restore while the next wave receives it.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> Waves { get; init; } = [];

    /// <summary>A point-in-time restore's chain: the full backup and the delta segments replayed up to the target.</summary>
    public string? PointInTime { get; init; }

    /// <summary>Checks made while planning, in order, each "ok: ..." or "failed: ...".</summary>
    public required IReadOnlyList<string> Checks { get; init; }
}

/// <summary>One step on one member, as the orchestrator saw it.</summary>
internal sealed record RestoreMemberStep(string Name, bool Succeeded, DateTimeOffset Started, DateTimeOffset Finished, string? Detail)
{
    public double DurationMs => (Finished - Started).TotalMilliseconds;
}

/// <summary>Where one member ended up.</summary>
internal sealed record RestoreMemberReport
{
    public required string Name { get; init; }

    /// <summary>The agent's last known state (<c>stopped</c>, <c>restored</c>, <c>started</c>, <c>rolledBack</c>...), or <c>untouched</c>.</summary>
    public required string State { get; init; }

    public IReadOnlyList<RestoreMemberStep> Steps { get; init; } = [];

    public string? Error { get; init; }
}

/// <summary>What the verification of the restored cluster found.</summary>
internal sealed record RestoreVerification
{
    public required bool Succeeded { get; init; }

    public int MembersUp { get; init; }

    public int Leaders { get; init; }

    public long? Revision { get; init; }

    public long? ExpectedRevision { get; init; }

    public long? KeyCount { get; init; }

    public long? ExpectedKeyCount { get; init; }

    /// <summary>HashKV per member name.</summary>
    public IReadOnlyDictionary<string, uint> HashKv { get; init; } = new Dictionary<string, uint>();

    public IReadOnlyList<string> Problems { get; init; } = [];
}

/// <summary>Output of the restore orchestrator.</summary>
internal sealed record RestoreResult
{
    public required string Cluster { get; init; }

    public required RestoreOutcome Outcome { get; init; }

    /// <summary>The phase that ended the run: plan, stop, restore, start, verify, done.</summary>
    public required string Phase { get; init; }

    public string? Error { get; init; }

    public string? Reason { get; init; }

    public RestorePlan? Plan { get; init; }

    public IReadOnlyList<RestoreMemberReport> Members { get; init; } = [];

    public RestoreVerification? Verification { get; init; }

    public DateTime Started { get; init; }

    public DateTime Finished { get; init; }
}

/// <summary>Progress published as the orchestration's custom status.</summary>
internal sealed record RestoreProgress(string Phase, IReadOnlyDictionary<string, string> Members);
