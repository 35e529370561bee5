namespace EtcdServerless.Etcd.Endpoints;

/// <summary>Knobs of <see cref="SnapshotSourceSelector"/>.</summary>
internal sealed record SnapshotSourceSelectorOptions
{
    /// <summary>Deadline of each Status / MemberList / Alarm call (unreachable members must not stall a backup).</summary>
    public TimeSpan StatusTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>A member whose applied index trails the leader's by more than this is not used.</summary>
    public ulong MaxAppliedIndexLag { get; init; } = 1000;

    /// <summary>Ask MemberList for members that were not configured (their advertised client URLs).</summary>
    public bool DiscoverMembers { get; init; } = true;

    /// <summary>Rank the leader first instead of last (taking a snapshot costs the serving member I/O).</summary>
    public bool PreferLeader { get; init; }
}
