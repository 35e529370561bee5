using System.Text.Json;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// A cluster's delta segments, seen through their manifests (a segment exists once its manifest exists; the
/// artifact is committed first). Reads a segment back decrypted and checked against its manifest.
/// </summary>
internal sealed class DeltaCatalog(IBackupStore store, IKeyStore keys)
{
    private const long MaxManifestBytes = 1024 * 1024;

    /// <summary>The cluster's segments in revision order (by first, then last revision); damaged manifests are errors naming them.</summary>
    public async Task<IReadOnlyList<DeltaManifest>> ListAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        await foreach (var info in store.ListAsync(DeltaNaming.Prefix(cluster), cancellationToken).ConfigureAwait(false))
        {
            if (DeltaNaming.TryParseManifestName(cluster, info.Name, out var id))
            {
                ids.Add(id);
            }
        }

        var manifests = new List<DeltaManifest>(ids.Count);
        foreach (var id in ids)
        {
            manifests.Add(await GetAsync(cluster, id, cancellationToken).ConfigureAwait(false));
        }

        manifests.Sort((a, b) => a.FromRevision != b.FromRevision ? a.FromRevision.CompareTo(b.FromRevision) : a.ToRevision.CompareTo(b.ToRevision));
        return manifests;
    }

    /// <summary>One segment's manifest. <see cref="BackupObjectNotFoundException"/> when it has none.</summary>
    public Task<DeltaManifest> GetAsync(string cluster, string segmentId, CancellationToken cancellationToken = default) =>
        ReadManifestAsync(store, cluster, segmentId, cancellationToken);

    /// <summary>
    /// The manifest of the cluster's newest segment (highest revisions), or null when it has none. Needs no key:
    /// freshness and metrics read it where only the store is at hand.
    /// </summary>
    public static async Task<DeltaManifest?> GetNewestAsync(IBackupStore store, string cluster, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? newest = null;
        await foreach (var info in store.ListAsync(DeltaNaming.Prefix(cluster), cancellationToken).ConfigureAwait(false))
        {
            // Segment ids sort ordinally in revision order.
            if (DeltaNaming.TryParseManifestName(cluster, info.Name, out var id) && (newest is null || string.CompareOrdinal(id, newest) > 0))
            {
                newest = id;
            }
        }

        return newest is null ? null : await ReadManifestAsync(store, cluster, newest, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<DeltaManifest> ReadManifestAsync(IBackupStore store, string cluster, string segmentId, CancellationToken cancellationToken)
    {
        var name = DeltaNaming.ManifestName(cluster, segmentId);
        var stream = await store.OpenReadAsync(name, 0, MaxManifestBytes + 1, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > MaxManifestBytes)
            {
                throw new InvalidDataException($"segment manifest '{name}' is larger than {MaxManifestBytes} bytes");
            }

            DeltaManifest? manifest;
            try
            {
                manifest = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), DeltaJsonContext.Default.DeltaManifest);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"segment manifest '{name}' is not valid: {ex.Message}", ex);
            }

            if (manifest?.Artifact is null || manifest.Key is null || manifest.Plaintext is null
                || manifest.Cluster != cluster || manifest.SegmentId != segmentId
                || DeltaNaming.SegmentId(manifest.FromRevision, manifest.ToRevision) != segmentId
                || manifest.Artifact.Name != DeltaNaming.ArtifactName(cluster, segmentId))
            {
                throw new InvalidDataException($"segment manifest '{name}' does not describe segment {segmentId} of cluster '{cluster}'");
            }

            return manifest;
        }
    }

    /// <summary>Writes the manifest, the segment's commit point; the artifact must be committed with the recorded size.</summary>
    public async Task WriteManifestAsync(DeltaManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var artifact = await store.GetInfoAsync(manifest.Artifact.Name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"segment artifact '{manifest.Artifact.Name}' is not committed; the manifest is written last");
        if (artifact.Length != manifest.Artifact.Size)
        {
            throw new InvalidOperationException($"segment artifact '{manifest.Artifact.Name}' has {artifact.Length} bytes but the manifest says {manifest.Artifact.Size}");
        }

        var writer = await store.OpenWriteAsync(DeltaNaming.ManifestName(manifest.Cluster, manifest.SegmentId), new BackupObjectWriteOptions
        {
            ContentType = "application/json",
            RetainUntil = manifest.Artifact.RetainUntil,
        }, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            await writer.Content.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(manifest, DeltaJsonContext.Default.DeltaManifest), cancellationToken).ConfigureAwait(false);
            await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How errors name a segment: its id and its artifact.</summary>
    public static string Label(DeltaManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return $"{manifest.SegmentId} ({manifest.Artifact.Name})";
    }

    /// <summary>
    /// The segment's plaintext (the <see cref="DeltaSegmentFormat"/> records), decrypted as it is read, after the
    /// manifest's MAC and the artifact's sealed identity were checked. Every chunk is authenticated as it is read; the
    /// caller checks the plaintext's size and SHA-256 against <see cref="DeltaManifest.Plaintext"/>. Any failure to
    /// open is an <see cref="InvalidDataException"/> naming the segment (a missing artifact included).
    /// </summary>
    public async Task<Stream> OpenPlaintextAsync(DeltaManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var segment = $"segment {Label(manifest)}";
        EnvelopeReadStream plain;
        try
        {
            using (var kek = await keys.GetAsync(manifest.Key.KekId, manifest.Key.KekVersion, cancellationToken).ConfigureAwait(false))
            {
                if (!DeltaManifestAuthenticator.Verify(manifest, kek))
                {
                    throw new InvalidDataException("manifest MAC does not match: the manifest was altered or forged");
                }
            }

            var stored = await store.OpenReadAsync(manifest.Artifact.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            plain = await EnvelopeReadStream.OpenAsync(stored, keys, leaveOpen: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or BackupStoreException or KeyNotFoundException or System.Security.Cryptography.CryptographicException)
        {
            throw new InvalidDataException($"{segment} cannot be read: {ex.Message}", ex);
        }

        var identity = DeltaManifestAuthenticator.Identity(manifest.Cluster, manifest.SegmentId);
        if (!string.Equals(plain.Header.Identity, identity, StringComparison.Ordinal))
        {
            await plain.DisposeAsync().ConfigureAwait(false);
            throw new InvalidDataException($"{segment} was sealed as '{plain.Header.Identity}', not as {identity}");
        }

        return plain;
    }

    /// <summary>
    /// The segment's revisions, decrypted and checked: the manifest's MAC, the artifact's sealed identity, the
    /// format, and at the end the plaintext's size and SHA-256 and the revision range against the manifest. Any
    /// failure is an <see cref="InvalidDataException"/> naming the segment (a missing artifact included), so replay
    /// stops there; revisions already yielded came from authenticated chunks.
    /// </summary>
    public async IAsyncEnumerable<EtcdRevisionEvents> ReadAsync(DeltaManifest manifest, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var plain = await OpenPlaintextAsync(manifest, cancellationToken).ConfigureAwait(false);
        await using (plain.ConfigureAwait(false))
        {
            var segment = $"segment {Label(manifest)}";
            using var reader = new DeltaSegmentReader(plain);
            await foreach (var revision in reader.ReadRevisionsAsync(segment, cancellationToken).ConfigureAwait(false))
            {
                yield return revision;
            }

            if (reader.Size != manifest.Plaintext.Size || !string.Equals(reader.Sha256, manifest.Plaintext.Sha256, StringComparison.Ordinal)
                || (reader.Summary.Revisions > 0 && (reader.Summary.First != manifest.FromRevision || reader.Summary.Last != manifest.ToRevision)))
            {
                throw new InvalidDataException($"{segment} differs from its manifest (plaintext {reader.Size} bytes, sha256 {reader.Sha256}, revisions {reader.Summary.First}-{reader.Summary.Last})");
            }
        }
    }
}
