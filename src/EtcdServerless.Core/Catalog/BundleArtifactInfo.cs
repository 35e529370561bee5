namespace EtcdServerless.Core.Catalog;

/// <summary>The sealed control-plane bundle in the store (manifest section <c>bundle</c>).</summary>
internal sealed record BundleArtifactInfo
{
    /// <summary>Object name in the store (<c>{backupId}.bundle.enc</c>).</summary>
    public string Name { get; init; } = "";

    /// <summary>SHA-256 (lowercase hex) of the stored bytes (header + ciphertext).</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>Stored bytes.</summary>
    public long Size { get; init; }

    /// <summary>SHA-256 (lowercase hex) of the plaintext tar.</summary>
    public string TarSha256 { get; init; } = "";

    /// <summary>Bytes of the plaintext tar.</summary>
    public long TarSize { get; init; }

    /// <summary>Envelope format version (docs/format.md).</summary>
    public int FormatVersion { get; init; }

    /// <summary>The agent the bundle was collected from.</summary>
    public string Agent { get; init; } = "";

    /// <summary>Until when the store keeps the bundle immutable, when known.</summary>
    public DateTimeOffset? RetainUntil { get; init; }

    /// <summary>The identity the bundle's envelope is sealed under: the backup's, with <c>/bundle</c>, so it cannot pass for the snapshot.</summary>
    public static string Identity(string cluster, string backupId) => ManifestAuthenticator.Identity(cluster, backupId) + "/bundle";
}
