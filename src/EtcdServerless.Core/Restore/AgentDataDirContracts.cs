namespace EtcdServerless.Core.Restore;

/// <summary>
/// One data dir on an agent's disk (<c>GET /v1/data-dirs</c>, <c>etcd-backup-agent data-dirs list</c>): the live one,
/// or a copy a restore set aside (<c>&lt;dataDir&gt;.before-&lt;id&gt;</c>, <c>&lt;dataDir&gt;.rolledback-&lt;id&gt;</c>).
/// </summary>
internal sealed record AgentDataDir
{
    /// <summary>The directory's file name: what <c>remove</c> takes.</summary>
    public required string Name { get; init; }

    /// <summary><c>live</c>, <c>before</c> (replaced by a restore) or <c>rolledback</c> (a restore's result, undone).</summary>
    public required string Kind { get; init; }

    /// <summary>The restore that set the copy aside (null for the live data dir).</summary>
    public string? RestoreId { get; init; }

    public required string Path { get; init; }

    /// <summary>When the copy was set aside (the directory's modification time).</summary>
    public required DateTimeOffset Modified { get; init; }

    /// <summary>Bytes of the files under it.</summary>
    public required long SizeBytes { get; init; }

    /// <summary>Why it cannot be removed (live, or the rollback copy of a restore still under way), or null.</summary>
    public string? Pinned { get; init; }
}

/// <summary>Answer of <c>PUT /v1/restores/{id}/bundle</c>.</summary>
internal sealed record AgentBundleResult
{
    public required string RestoreId { get; init; }

    /// <summary>Entries written (files, directories, links).</summary>
    public required int Entries { get; init; }
}
