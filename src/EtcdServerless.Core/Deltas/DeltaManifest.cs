using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// What one delta segment is: written last, next to its artifact, as the segment's commit point (as a full backup's
/// manifest). JSON via <see cref="DeltaJsonContext"/> (camelCase); property names are a contract (docs/format.md).
/// </summary>
internal sealed record DeltaManifest
{
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Cluster { get; init; }

    /// <summary><c>r{from:D12}-r{to:D12}</c>, see <see cref="DeltaNaming"/>.</summary>
    public required string SegmentId { get; init; }

    /// <summary>First revision held (the previous capture's last revision + 1).</summary>
    public required long FromRevision { get; init; }

    /// <summary>Last revision held: the cluster's revision when the capture started.</summary>
    public required long ToRevision { get; init; }

    /// <summary>The segment this one continues (its <see cref="ToRevision"/> is <see cref="FromRevision"/> - 1); null when the chain starts at a full backup.</summary>
    public string? Previous { get; init; }

    /// <summary>When the chain starts here: the full backup whose exact snapshot revision is <see cref="FromRevision"/> - 1.</summary>
    public string? BaseBackupId { get; init; }

    /// <summary>
    /// When the capture read the cluster's revision (<see cref="ToRevision"/>): the cluster was at least at that
    /// revision then. Point-in-time targets map to revisions through this time.
    /// </summary>
    public required DateTimeOffset Captured { get; init; }

    /// <summary>The member the history was read from.</summary>
    public string Source { get; init; } = "";

    /// <summary>Events (puts and deletes) held.</summary>
    public long Events { get; init; }

    /// <summary>Revisions held (each revision is one original transaction).</summary>
    public long Revisions { get; init; }

    /// <summary>The plaintext record stream: SHA-256 (lowercase hex) and size.</summary>
    public required DeltaPlaintextInfo Plaintext { get; init; }

    public required ArtifactInfo Artifact { get; init; }

    public required KeyReference Key { get; init; }

    public string ToolVersion { get; init; } = "";

    /// <summary>HMAC over every field above under a key derived from the KEK (as a backup manifest's).</summary>
    public ManifestIntegrity? Integrity { get; init; }
}

/// <summary>The decrypted record stream of a segment.</summary>
internal sealed record DeltaPlaintextInfo
{
    public string Sha256 { get; init; } = "";

    public long Size { get; init; }
}

/// <summary>Source-generated JSON for segment manifests.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(DeltaManifest))]
internal sealed partial class DeltaJsonContext : JsonSerializerContext;

/// <summary>
/// Binds a segment's identity and content to the KEK: the artifact's envelope header carries
/// <c>{cluster}/deltas/{segmentId}</c>, and the manifest an HMAC-SHA256 under an HKDF-derived key of its own
/// (a different derivation label from backup manifests, so one can never pass for the other).
/// </summary>
internal static class DeltaManifestAuthenticator
{
    private static ReadOnlySpan<byte> MacKeyInfo => "etcd-backup delta manifest mac v1"u8;

    /// <summary>The identity a segment artifact's header binds.</summary>
    public static string Identity(string cluster, string segmentId) => $"{cluster}/deltas/{segmentId}";

    public static DeltaManifest Sign(DeltaManifest manifest, KeyEncryptionKey kek)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(kek);
        var unsigned = manifest with { Integrity = null };
        return unsigned with { Integrity = new ManifestIntegrity { Algorithm = ManifestAuthenticator.Algorithm, Mac = Convert.ToHexStringLower(Compute(unsigned, kek)) } };
    }

    public static bool Verify(DeltaManifest manifest, KeyEncryptionKey kek)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(kek);
        if (manifest.Integrity is not { Algorithm: ManifestAuthenticator.Algorithm } integrity || integrity.Mac.Length != 64)
        {
            return false;
        }

        byte[] claimed;
        try
        {
            claimed = Convert.FromHexString(integrity.Mac);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(claimed, Compute(manifest with { Integrity = null }, kek));
    }

    private static byte[] Compute(DeltaManifest unsigned, KeyEncryptionKey kek)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, kek.Material, key, salt: [], MacKeyInfo);
            return HMACSHA256.HashData(key, JsonSerializer.SerializeToUtf8Bytes(unsigned, DeltaJsonContext.Default.DeltaManifest));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
