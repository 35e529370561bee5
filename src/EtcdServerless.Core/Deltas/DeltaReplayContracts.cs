using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Core.Deltas;

/// <summary>What a replay must end at and what it starts from, without saying where the bytes come from.</summary>
/// <param name="Cluster">The cluster (logs).</param>
/// <param name="TargetRevision">The revision the result ends at.</param>
/// <param name="BaseBackupId">The full backup the replay starts from (errors name it).</param>
/// <param name="BaseRevision">The exact (bbolt) revision of the base snapshot: replay starts strictly after it.</param>
/// <param name="BaseSize">The base snapshot's size (sizes the throwaway member's quota).</param>
/// <param name="Chain">One line naming the chain (errors quote it).</param>
internal sealed record ReplayTarget(string Cluster, long TargetRevision, string BaseBackupId, long BaseRevision, long BaseSize, string Chain)
{
    /// <summary>The plaintext size of the chain's segments (sizes where the throwaway member can live; 0 when unknown).</summary>
    public long ReplayBytes { get; init; }

    /// <summary>The target of a <see cref="MaterializePlan"/>.</summary>
    public static ReplayTarget From(MaterializePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new(plan.Cluster, plan.TargetRevision, plan.Base.BackupId, plan.Base.Snapshot.Revision, plan.Base.Snapshot.Size, plan.Describe())
        {
            ReplayBytes = plan.Segments.Sum(s => s.Plaintext.Size),
        };
    }
}

/// <summary>One segment of a replay chain.</summary>
/// <param name="SegmentId">The segment's id.</param>
/// <param name="Label">How errors name it (the id, and the artifact where known).</param>
/// <param name="ToRevision">Its last revision: a segment the replay is already past is not read.</param>
internal sealed record ReplaySegment(string SegmentId, string Label, long ToRevision);

/// <summary>A replay's numbers.</summary>
internal sealed record ReplayResult(long Revision, long RevisionsReplayed, long EventsReplayed, long Size, TimeSpan Duration);

/// <summary>
/// Where a replay's inputs come from: the store on a host that holds the key (<see cref="StoreReplaySource"/>), or a
/// request body of plaintexts on an agent. The replay asks for the base first, then for segments in chain order
/// (skipping the ones it is already past), and calls <see cref="CompleteAsync"/> once replay is done.
/// </summary>
internal interface IReplaySource
{
    /// <summary>The chain's segments, in replay order.</summary>
    IReadOnlyList<ReplaySegment> Segments { get; }

    /// <summary>Writes the base snapshot's plaintext to <paramref name="path"/> (a new 0600 file), checked against what it must be.</summary>
    /// <exception cref="InvalidDataException">The base is damaged or differs from what was recorded (named).</exception>
    Task WriteBaseAsync(string path, CancellationToken cancellationToken = default);

    /// <summary>
    /// The revisions of <see cref="Segments"/>[<paramref name="index"/>], checked as they are read. A failure is an
    /// <see cref="InvalidDataException"/> naming the segment. Indexes only increase.
    /// </summary>
    IAsyncEnumerable<EtcdRevisionEvents> ReadAsync(int index, CancellationToken cancellationToken = default);

    /// <summary>Replay is done: whatever the source still must check (inputs not read) is checked now.</summary>
    Task CompleteAsync(CancellationToken cancellationToken = default);
}
