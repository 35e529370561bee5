using System.Globalization;
using EtcdServerless.Core.Catalog;

namespace EtcdServerless.Core.Drills;

/// <summary>
/// What a drilled snapshot must be and serve, taken from its backup's manifest: the plaintext's size and SHA-256,
/// and the revision, key count and hash <c>etcdctl snapshot status</c> reported at backup time. The agent receives
/// this (never the manifest's key material) with the plaintext it drills.
/// </summary>
internal sealed record DrillExpectation
{
    public required string Cluster { get; init; }

    public required string BackupId { get; init; }

    /// <summary>Bytes of the plaintext snapshot (database plus etcd's 32-byte trailer).</summary>
    public required long Size { get; init; }

    /// <summary>Lowercase hex SHA-256 of the plaintext snapshot.</summary>
    public required string Sha256 { get; init; }

    public required long Revision { get; init; }

    /// <summary><c>snapshot status</c>'s total key count, in the semantics of <see cref="EtcdVersion"/>.</summary>
    public required long TotalKey { get; init; }

    public required uint Hash { get; init; }

    /// <summary>The source member's etcd version: 3.6 counts total keys differently.</summary>
    public string EtcdVersion { get; init; } = "";

    /// <summary>The expectation of a backup.</summary>
    public static DrillExpectation From(BackupManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new DrillExpectation
        {
            Cluster = manifest.Cluster,
            BackupId = manifest.BackupId,
            Size = manifest.Snapshot.Size,
            Sha256 = manifest.Snapshot.Sha256.ToLowerInvariant(),
            Revision = manifest.Snapshot.Revision,
            TotalKey = manifest.Snapshot.TotalKey,
            Hash = manifest.Snapshot.Hash,
            EtcdVersion = manifest.Source.EtcdVersion,
        };
    }

    /// <summary>The query string the agent's drill endpoint reads (no secret in it: figures and names only).</summary>
    public string ToQuery() => string.Join('&',
        Pair("cluster", Cluster), Pair("backupId", BackupId), Pair("size", Size), Pair("sha256", Sha256),
        Pair("revision", Revision), Pair("totalKey", TotalKey), Pair("hash", Hash), Pair("etcdVersion", EtcdVersion));

    private static string Pair(string name, object value) =>
        $"{name}={Uri.EscapeDataString(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")}";
}
