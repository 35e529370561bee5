using EtcdServerless.Core.IO;
using System.Globalization;
using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Core.Backup;

/// <summary>One check of a verification.</summary>
internal sealed record VerificationCheck(string Name, bool Passed, string? Expected = null, string? Actual = null, string? Detail = null);

/// <summary>What <see cref="BackupVerifier"/> found.</summary>
internal sealed record BackupVerificationResult(string Cluster, string BackupId, IReadOnlyList<VerificationCheck> Checks)
{
    /// <summary>Every check passed.</summary>
    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Passed);
}

/// <summary>
/// <c>backup verify</c>: downloads the artifact once, hashing the stored bytes while decrypting them into a
/// temp file, then checks trailer and structure and compares every figure with the manifest. Problems with the
/// artifact are failed checks, not exceptions; a missing manifest is <see cref="BackupObjectNotFoundException"/>.
/// </summary>
internal sealed class BackupVerifier(IBackupStore store, IKeyStore keys, string? tempDirectory = null)
{
    public async Task<BackupVerificationResult> VerifyAsync(string cluster, string backupId, CancellationToken cancellationToken = default)
    {
        var manifest = await new BackupCatalog(store).GetAsync(cluster, backupId, cancellationToken).ConfigureAwait(false);
        return await VerifyAsync(manifest, cancellationToken).ConfigureAwait(false);
    }

    public async Task<BackupVerificationResult> VerifyAsync(BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var checks = new List<VerificationCheck>();
        BackupVerificationResult Result() => new(manifest.Cluster, manifest.BackupId, checks);

        var info = await store.GetInfoAsync(manifest.Artifact.Name, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            checks.Add(new VerificationCheck("artifact.exists", false, manifest.Artifact.Name, "missing"));
            return Result();
        }

        checks.Add(Compare("artifact.size", manifest.Artifact.Size, info.Length));
        // The decrypted snapshot needs random access for the bbolt checks: a private, already-unlinked scratch file.
        var temp = PrivateTempFiles.Create(tempDirectory, "verify");
        await using (temp.ConfigureAwait(false))
        {
            EnvelopeHeader? header = null;
            using var cipherHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var plainHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long plainSize = 0;
            var stored = await store.OpenReadAsync(manifest.Artifact.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (stored.ConfigureAwait(false))
            {
                var hashing = new HashingReadStream(stored, cipherHash);
                await using (hashing.ConfigureAwait(false))
                {
                    try
                    {
                        var plain = await EnvelopeReadStream.OpenAsync(hashing, keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
                        await using (plain.ConfigureAwait(false))
                        {
                            checks.Add(new VerificationCheck("key.version",
                                plain.Header.KeyId == manifest.Key.KekId && plain.Header.KeyVersion == manifest.Key.KekVersion,
                                $"{manifest.Key.KekId}/{manifest.Key.KekVersion}", $"{plain.Header.KeyId}/{plain.Header.KeyVersion}"));
                            header = plain.Header;
                            var buffer = new byte[1 << 16];
                            int read;
                            while ((read = await plain.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                            {
                                plainHash.AppendData(buffer, 0, read);
                                await temp.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                                plainSize += read;
                            }
                        }

                        checks.Add(new VerificationCheck("decrypt", true, Detail: "every chunk authenticated"));
                    }
                    catch (Exception ex) when (ex is EnvelopeException or CryptographicException or KeyNotFoundException or InvalidDataException or EndOfStreamException)
                    {
                        checks.Add(new VerificationCheck("decrypt", false, Detail: ex.Message));
                    }

                    // Hash the rest too, so a failed decryption still reports whether the stored bytes changed.
                    await hashing.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                }
            }

            checks.Insert(1, Compare("artifact.sha256", manifest.Artifact.Sha256, Convert.ToHexStringLower(cipherHash.GetHashAndReset())));

            // Identity: the manifest's MAC and the artifact header's bound identity (a replay under a new id fails here).
            await AddIdentityChecksAsync(manifest, header, checks, cancellationToken).ConfigureAwait(false);

            if (!checks.Single(c => c.Name == "decrypt").Passed)
            {
                return Result();
            }

            checks.Add(Compare("snapshot.size", manifest.Snapshot.Size, plainSize));
            checks.Add(Compare("snapshot.sha256", manifest.Snapshot.Sha256, Convert.ToHexStringLower(plainHash.GetHashAndReset())));
            await temp.FlushAsync(cancellationToken).ConfigureAwait(false);
            await InspectSnapshotAsync(temp.SafeFileHandle, manifest, checks, cancellationToken).ConfigureAwait(false);
        }

        // The second artifact, when the backup has one (docs/format.md).
        checks.AddRange(await BundleVerifier.VerifyAsync(store, keys, manifest, cancellationToken).ConfigureAwait(false));
        return Result();
    }

    private async Task AddIdentityChecksAsync(BackupManifest manifest, EnvelopeHeader? header, List<VerificationCheck> checks, CancellationToken cancellationToken)
    {
        foreach (var (name, passed, detail) in await ManifestAuthenticator.CheckAsync(manifest, header, keys, new BackupCatalog(store), cancellationToken).ConfigureAwait(false))
        {
            checks.Add(new VerificationCheck(name, passed, Detail: detail));
        }
    }

    /// <summary>The decrypted snapshot as etcd would read it: trailer, bbolt structure, revision, live keys and hash.</summary>
    private static async Task InspectSnapshotAsync(SafeFileHandle snapshot, BackupManifest manifest, List<VerificationCheck> checks, CancellationToken cancellationToken)
    {
        try
        {
            var status = await SnapshotInspector.InspectAsync(snapshot, new SnapshotInspectionOptions
            {
                Trailer = SnapshotTrailerMode.Present,
                VerifyTrailer = true,
                TotalKeySemantics = manifest.Source.EtcdVersion.StartsWith("3.6", StringComparison.Ordinal) ? TotalKeySemantics.Etcd36 : TotalKeySemantics.Etcd34,
            }, cancellationToken).ConfigureAwait(false);
            checks.Add(new VerificationCheck("snapshot.structure", true, Detail: "sha256 trailer and bbolt structure valid"));
            checks.Add(Compare("snapshot.revision", manifest.Snapshot.Revision, status.Revision));
            checks.Add(Compare("snapshot.totalKey", manifest.Snapshot.TotalKey, status.TotalKey));
            checks.Add(Compare("snapshot.hash", manifest.Snapshot.Hash, status.Hash));
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            checks.Add(new VerificationCheck("snapshot.structure", false, Detail: ex.Message));
        }
    }

    private static VerificationCheck Compare<T>(string name, T expected, T actual) =>
        new(name, EqualityComparer<T>.Default.Equals(expected, actual),
            Convert.ToString(expected, CultureInfo.InvariantCulture), Convert.ToString(actual, CultureInfo.InvariantCulture));

    /// <summary>Hashes every byte read through it.</summary>
    private sealed class HashingReadStream(Stream inner, IncrementalHash hash) : ForwardOnlyReadStream
    {
        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            hash.AppendData(buffer[..read]);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            hash.AppendData(buffer.Span[..read]);
            return read;
        }
    }
}
