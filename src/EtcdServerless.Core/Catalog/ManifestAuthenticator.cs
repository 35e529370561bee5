using System.Security.Cryptography;
using System.Text.Json;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;

namespace EtcdServerless.Core.Catalog;

/// <summary>
/// Binds a backup's identity to its content under the KEK, so write access to the store is not enough to present
/// an old backup under a newer id. Two bindings: the artifact's envelope header carries
/// <c>{cluster}/{backupId}</c> (the id includes the revision) in its authenticated data, and the manifest carries
/// an HMAC-SHA256 over all its fields under a key derived from the KEK with HKDF-SHA256 (a separate key, so the
/// MAC key never doubles as a wrapping key).
/// </summary>
internal static class ManifestAuthenticator
{
    /// <summary>The algorithm name recorded in <see cref="ManifestIntegrity.Algorithm"/>.</summary>
    public const string Algorithm = "HMAC-SHA256/HKDF-SHA256";

    private static ReadOnlySpan<byte> MacKeyInfo => "etcd-backup manifest mac v1"u8;

    /// <summary>The identity an artifact's header binds: <c>{cluster}/{backupId}</c>.</summary>
    public static string Identity(string cluster, string backupId) => $"{cluster}/{backupId}";

    /// <summary>Returns <paramref name="manifest"/> with its MAC under <paramref name="kek"/> (the KEK that wraps its data key).</summary>
    public static BackupManifest Sign(BackupManifest manifest, KeyEncryptionKey kek)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(kek);
        var unsigned = manifest with { SchemaVersion = BackupManifest.CurrentSchemaVersion, Integrity = null };
        return unsigned with { Integrity = new ManifestIntegrity { Algorithm = Algorithm, Mac = Convert.ToHexStringLower(Compute(unsigned, kek)) } };
    }

    /// <summary>True when the manifest's MAC matches its content under <paramref name="kek"/>.</summary>
    public static bool Verify(BackupManifest manifest, KeyEncryptionKey kek)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(kek);
        if (manifest.Integrity is not { Algorithm: Algorithm } integrity || integrity.Mac.Length != 64)
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

    /// <summary>
    /// Every identity check of one backup, as (name, passed, detail): the manifest MAC, the artifact header's
    /// identity, and, for a manifest written before identity binding, that no authenticated backup of the cluster
    /// is older than it (after binding was switched on, an unauthenticated newer id can only be a replay).
    /// </summary>
    public static async Task<IReadOnlyList<(string Name, bool Passed, string Detail)>> CheckAsync(
        BackupManifest manifest, EnvelopeHeader? header, IKeyStore keys, BackupCatalog catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(catalog);
        var checks = new List<(string, bool, string)>();
        var identity = Identity(manifest.Cluster, manifest.BackupId);
        if (manifest.Integrity is null)
        {
            var newerThanBound = (await catalog.ListAsync(manifest.Cluster, cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(m => m.Integrity is not null && string.CompareOrdinal(m.BackupId, manifest.BackupId) < 0);
            checks.Add(newerThanBound is null
                ? ("manifest.mac", true, "format 1 backup (written before identity binding): not authenticated")
                : ("manifest.mac", false, $"unauthenticated manifest newer than authenticated backup {newerThanBound.BackupId}: possible replay of an old backup under a new id"));
        }
        else
        {
            bool valid;
            try
            {
                using var kek = await keys.GetAsync(manifest.Key.KekId, manifest.Key.KekVersion, cancellationToken).ConfigureAwait(false);
                valid = Verify(manifest, kek);
            }
            catch (KeyNotFoundException ex)
            {
                checks.Add(("manifest.mac", false, ex.Message));
                valid = false;
            }

            if (checks.Count == 0)
            {
                checks.Add(("manifest.mac", valid, valid ? "manifest authenticated under the KEK" : "manifest MAC does not match: the manifest was altered or forged"));
            }
        }

        if (header is not null)
        {
            var bound = manifest.Integrity is not null || manifest.Artifact.FormatVersion >= EnvelopeFormat.IdentityVersion;
            checks.Add(header.Identity is null
                ? ("artifact.identity", !bound, bound ? $"the artifact carries no identity but backup {manifest.BackupId} was written with one" : "format 1 artifact: no identity to check")
                : ("artifact.identity", string.Equals(header.Identity, identity, StringComparison.Ordinal),
                    string.Equals(header.Identity, identity, StringComparison.Ordinal) ? $"artifact sealed as {identity}" : $"artifact sealed as {header.Identity}, presented as {identity}"));
        }

        return checks;
    }

    private static byte[] Compute(BackupManifest unsigned, KeyEncryptionKey kek)
    {
        Span<byte> key = stackalloc byte[32];
        try
        {
            HKDF.DeriveKey(HashAlgorithmName.SHA256, kek.Material, key, salt: [], MacKeyInfo);
            var bytes = JsonSerializer.SerializeToUtf8Bytes(unsigned, CatalogJsonContext.Default.BackupManifest);
            return HMACSHA256.HashData(key, bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
