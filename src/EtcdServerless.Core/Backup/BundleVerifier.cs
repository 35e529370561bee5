using System.Formats.Tar;
using System.Security.Cryptography;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// The bundle half of <c>backup verify</c>: the stored bundle's size and SHA-256, its envelope and identity, the
/// tar's SHA-256 and size against the manifest, and every tar entry readable. Nothing when the backup has no bundle.
/// </summary>
internal static class BundleVerifier
{
    public static async Task<IReadOnlyList<VerificationCheck>> VerifyAsync(IBackupStore store, IKeyStore keys, BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Bundle is not { } bundle)
        {
            return [];
        }

        var checks = new List<VerificationCheck>();
        var info = await store.GetInfoAsync(bundle.Name, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            checks.Add(new VerificationCheck("bundle.exists", false, bundle.Name, "missing"));
            return checks;
        }

        var entries = 0;
        try
        {
            var read = await BundleArtifactReader.ReadAsync(store, keys, manifest, async (tar, ct) =>
            {
                var reader = new TarReader(tar, leaveOpen: true);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.GetNextEntryAsync(copyData: false, ct).ConfigureAwait(false) is not null)
                    {
                        entries++;
                    }
                }
            }, cancellationToken).ConfigureAwait(false);
            checks.Add(Compare("bundle.size", bundle.Size, read.StoredSize));
            checks.Add(Compare("bundle.sha256", bundle.Sha256, read.StoredSha256));
            checks.Add(new VerificationCheck("bundle.decrypt", true, Detail: $"every chunk authenticated, sealed as {read.Identity}"));
            checks.Add(Compare("bundle.tarSize", bundle.TarSize, read.TarSize));
            checks.Add(Compare("bundle.tarSha256", bundle.TarSha256, read.TarSha256));
            checks.Add(new VerificationCheck("bundle.tar", true, Detail: $"{entries} entries readable"));
        }
        catch (Exception ex) when (ex is EnvelopeException or CryptographicException or KeyNotFoundException or InvalidDataException or EndOfStreamException or FormatException)
        {
            checks.Add(Compare("bundle.size", bundle.Size, info.Length));
            checks.Add(new VerificationCheck("bundle.decrypt", false, Detail: ex.Message));
        }

        return checks;
    }

    private static VerificationCheck Compare<T>(string name, T expected, T actual) =>
        new(name, EqualityComparer<T>.Default.Equals(expected, actual),
            Convert.ToString(expected, System.Globalization.CultureInfo.InvariantCulture), Convert.ToString(actual, System.Globalization.CultureInfo.InvariantCulture));
}
