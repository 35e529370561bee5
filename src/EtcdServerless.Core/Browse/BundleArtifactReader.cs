using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Browse;

/// <summary>What reading a sealed bundle measured: the stored bytes and the plaintext tar.</summary>
internal sealed record BundleReadResult(string StoredSha256, long StoredSize, string TarSha256, long TarSize, string? Identity);

/// <summary>
/// Reads a backup's sealed control-plane bundle once, streaming: stored bytes hashed, envelope authenticated chunk by
/// chunk, the identity checked (<c>{cluster}/{backupId}/bundle</c>: neither the snapshot nor another backup's bundle
/// passes), the plaintext tar handed to the caller and hashed. <c>backup verify</c>, <c>backup export --bundle</c> and
/// the restore's bundle step all read it here.
/// </summary>
internal static class BundleArtifactReader
{
    /// <summary>
    /// Streams the tar to <paramref name="consume"/>. Throws <see cref="InvalidDataException"/> when the identity is not
    /// this backup's bundle; envelope errors (tampering, truncation, wrong key) propagate as they are.
    /// </summary>
    public static async Task<BundleReadResult> ReadAsync(
        IBackupStore store, IKeyStore keys, BackupManifest manifest, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(consume);
        var bundle = manifest.Bundle ?? throw new InvalidOperationException($"backup {manifest.BackupId} has no control-plane bundle");
        var expected = BundleArtifactInfo.Identity(manifest.Cluster, manifest.BackupId);
        using var storedHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var tarHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long storedSize = 0;
        long tarSize = 0;
        string? identity;
        var stored = await store.OpenReadAsync(bundle.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (stored.ConfigureAwait(false))
        {
            var hashingStored = new HashingReadStream(stored, storedHash, n => storedSize += n);
            await using (hashingStored.ConfigureAwait(false))
            {
                var plain = await EnvelopeReadStream.OpenAsync(hashingStored, keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
                await using (plain.ConfigureAwait(false))
                {
                    identity = plain.Header.Identity;
                    if (!string.Equals(identity, expected, StringComparison.Ordinal))
                    {
                        throw new InvalidDataException($"the bundle artifact is sealed as '{identity ?? "(no identity)"}', not as {expected}");
                    }

                    var hashingTar = new HashingReadStream(plain, tarHash, n => tarSize += n);
                    await using (hashingTar.ConfigureAwait(false))
                    {
                        await consume(hashingTar, cancellationToken).ConfigureAwait(false);

                        // Whatever the consumer left unread still has to authenticate.
                        await hashingTar.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                    }
                }

                await hashingStored.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }
        }

        return new BundleReadResult(
            Convert.ToHexStringLower(storedHash.GetHashAndReset()), storedSize, Convert.ToHexStringLower(tarHash.GetHashAndReset()), tarSize, identity);
    }
}
