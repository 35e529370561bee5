namespace EtcdServerless.Etcd.Inspection;

/// <summary>
/// What <c>etcdctl snapshot status</c> (3.4/3.5) or <c>etcdutl snapshot status</c> (3.6) reports for a snapshot.
/// </summary>
/// <param name="Hash">CRC-32C over every bucket name, key and value in cursor order.</param>
/// <param name="Revision">Main revision of the last key in the <c>key</c> bucket (0 when it is empty).</param>
/// <param name="TotalKey">
/// 3.4/3.5: entries across all buckets. 3.6: distinct live user keys in the <c>key</c> bucket.
/// </param>
/// <param name="TotalSize">Database bytes: meta page count times page size (the sha trailer excluded).</param>
/// <param name="Version">
/// 3.6 only: <c>meta/storageVersion</c> when it is a semantic version, otherwise empty. Null under 3.4/3.5
/// semantics, which have no such field.
/// </param>
internal sealed record SnapshotStatus(uint Hash, long Revision, long TotalKey, long TotalSize, string? Version);

/// <summary>Which etcd release's <c>totalKey</c> (and <c>version</c>) rules to apply.</summary>
internal enum TotalKeySemantics
{
    /// <summary>etcd 3.4 and 3.5: every entry of every bucket counts; no version.</summary>
    Etcd34,

    /// <summary>etcd 3.6+: distinct live keys in the <c>key</c> bucket; version from <c>meta/storageVersion</c>.</summary>
    Etcd36,
}

/// <summary>Whether the file ends with etcd's 32-byte SHA-256 trailer.</summary>
internal enum SnapshotTrailerMode
{
    /// <summary>Decide by size as etcd does: present when <c>length % 512 == 32</c>.</summary>
    Auto,

    /// <summary>The last 32 bytes are the trailer.</summary>
    Present,

    /// <summary>The whole file is the database (for example a raw <c>member/snap/db</c>).</summary>
    Absent,
}

/// <summary>Options of <see cref="SnapshotInspector"/>.</summary>
internal sealed class SnapshotInspectionOptions
{
    /// <summary>etcd 3.4/3.5 rules by default.</summary>
    public TotalKeySemantics TotalKeySemantics { get; init; } = TotalKeySemantics.Etcd34;

    /// <summary>Trailer detection (etcd's size rule by default).</summary>
    public SnapshotTrailerMode Trailer { get; init; } = SnapshotTrailerMode.Auto;

    /// <summary>
    /// Check the trailer against the SHA-256 of the data (on by default; runs beside the tree walk). etcdctl's
    /// status never checks it; restore does.
    /// </summary>
    public bool VerifyTrailer { get; init; } = true;
}
