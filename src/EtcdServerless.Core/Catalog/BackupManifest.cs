using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Catalog;

/// <summary>
/// What one backup is: written last, next to its artifact, as the commit point of the backup
/// (docs/format.md). JSON via <see cref="CatalogJsonContext"/> (camelCase); property names are a contract.
/// </summary>
internal sealed record BackupManifest
{
    /// <summary>Current manifest schema version (2: carries <see cref="Integrity"/>; 1 is still read).</summary>
    public const int CurrentSchemaVersion = 2;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>Sortable id, see <see cref="BackupNaming"/>.</summary>
    public required string BackupId { get; init; }

    public required string Cluster { get; init; }

    /// <summary>When the snapshot was taken (UTC).</summary>
    public required DateTimeOffset Created { get; init; }

    public required SourceMemberInfo Source { get; init; }

    public required SnapshotInfo Snapshot { get; init; }

    public required ArtifactInfo Artifact { get; init; }

    /// <summary>
    /// The control-plane bundle, a second artifact sealed like the snapshot (same envelope and KEK), when the
    /// cluster has <c>Bundle:AgentUrl</c>; absent in older manifests and in backups without one.
    /// </summary>
    public BundleArtifactInfo? Bundle { get; init; }

    public required KeyReference Key { get; init; }

    public string ToolVersion { get; init; } = "";

    public BackupDurations Durations { get; init; } = new();

    public BackupFlags Flags { get; init; } = new();

    /// <summary>
    /// Set on a point-in-time backup: the snapshot was materialized from a full backup and delta segments, not
    /// streamed from a member (docs/format.md §8). Null (absent) on every captured backup.
    /// </summary>
    public MaterializedFromInfo? MaterializedFrom { get; init; }

    /// <summary>
    /// The MAC binding every field above to the key (schema 2); null in manifests written before identity
    /// binding. See <see cref="ManifestAuthenticator"/> and docs/format.md.
    /// </summary>
    public ManifestIntegrity? Integrity { get; init; }
}

/// <summary>A manifest's MAC: HMAC-SHA256 under a key derived (HKDF-SHA256) from the KEK named in the manifest.</summary>
internal sealed record ManifestIntegrity
{
    /// <summary>The algorithm, <see cref="ManifestAuthenticator.Algorithm"/>.</summary>
    public string Algorithm { get; init; } = "";

    /// <summary>The MAC (lowercase hex) over the manifest serialized without this section.</summary>
    public string Mac { get; init; } = "";
}

/// <summary>Where a point-in-time backup's snapshot came from.</summary>
internal sealed record MaterializedFromInfo
{
    /// <summary>The full backup restored first.</summary>
    public string BaseBackupId { get; init; } = "";

    /// <summary>The delta segments replayed on it, in order.</summary>
    public IReadOnlyList<string> Segments { get; init; } = [];
}

/// <summary>The member the snapshot was streamed from.</summary>
internal sealed record SourceMemberInfo
{
    /// <summary>Member id as hex (etcd prints it so).</summary>
    public string Id { get; init; } = "";

    public string Name { get; init; } = "";

    public string Endpoint { get; init; } = "";

    public bool IsLeader { get; init; }

    public ulong RaftTerm { get; init; }

    public ulong RaftIndex { get; init; }

    public string EtcdVersion { get; init; } = "";
}

/// <summary>The plaintext snapshot, as <c>etcdutl snapshot status</c> reports it.</summary>
internal sealed record SnapshotInfo
{
    /// <summary>SHA-256 (lowercase hex) of the whole snapshot file, etcd's trailer included.</summary>
    public string Sha256 { get; init; } = "";

    public long Size { get; init; }

    public long Revision { get; init; }

    public long TotalKey { get; init; }

    /// <summary>etcd's snapshot hash (crc32 over the bbolt buckets).</summary>
    public uint Hash { get; init; }
}

/// <summary>The sealed artifact in the store.</summary>
internal sealed record ArtifactInfo
{
    /// <summary>Object name in the store.</summary>
    public string Name { get; init; } = "";

    /// <summary>SHA-256 (lowercase hex) of the stored bytes (header + ciphertext).</summary>
    public string Sha256 { get; init; } = "";

    public long Size { get; init; }

    /// <summary><c>none</c>, <c>gzip</c>, <c>brotli</c> or <c>zstd</c> (the default since issue 10).</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Envelope format version (docs/format.md).</summary>
    public int FormatVersion { get; init; }

    /// <summary>Until when the store keeps the artifact immutable, when known.</summary>
    public DateTimeOffset? RetainUntil { get; init; }

    /// <summary>
    /// What a finished envelope committed as <paramref name="name"/> is; <paramref name="retainUntil"/> stands in when
    /// the store does not report the retention it applied.
    /// </summary>
    public static ArtifactInfo Sealed(string name, EnvelopeWriteStream envelope, StoredObjectInfo committed, DateTimeOffset? retainUntil) => new()
    {
        Name = name,
        Sha256 = Convert.ToHexStringLower(envelope.ArtifactSha256 ?? throw new InvalidOperationException("the envelope is not finished")),
        Size = committed.Length,
        Compression = envelope.Header.Compression.ToString().ToLowerInvariant(),
        FormatVersion = envelope.Header.FormatVersion,
        RetainUntil = committed.RetainUntil ?? retainUntil,
    };
}

/// <summary>Which KEK wraps the artifact's data key.</summary>
internal sealed record KeyReference
{
    /// <summary>The key store's secret-free description.</summary>
    public string Store { get; init; } = "";

    public string KekId { get; init; } = "";

    public string KekVersion { get; init; } = "";

    /// <summary>The reference to <paramref name="kek"/> in <paramref name="keys"/>.</summary>
    public static KeyReference To(IKeyStore keys, KeyEncryptionKey kek) => new() { Store = keys.Description, KekId = kek.KeyId, KekVersion = kek.Version };
}

/// <summary>How long the steps took.</summary>
internal sealed record BackupDurations
{
    public TimeSpan Total { get; init; }

    public TimeSpan Snapshot { get; init; }

    public TimeSpan Verify { get; init; }

    public TimeSpan Upload { get; init; }
}

/// <summary>Facts retention and operators act on.</summary>
internal sealed record BackupFlags
{
    /// <summary>The snapshot passed inspection (structure, hash, revision, key count) before it was committed.</summary>
    public bool Verified { get; init; }

    /// <summary>
    /// The key count dropped sharply against the previous backup (possible mass deletion): retention keeps the
    /// previous backup as the last good one.
    /// </summary>
    public bool KeyCountDropped { get; init; }
}
