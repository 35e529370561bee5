using System.Globalization;
using System.Text.Json;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Catalog;

/// <summary>
/// The backups of a store, seen through their manifests. A backup exists once its manifest exists: the
/// pipeline commits the artifact first and the manifest last, so an artifact without a manifest is an
/// orphan of a failed run (see <see cref="FindOrphansAsync"/>).
/// </summary>
internal sealed class BackupCatalog
{
    /// <summary>Tag names set on artifacts (Blob index tags on Azure; sidecar on the local store).</summary>
    public const string ClusterTag = "cluster";
    public const string RevisionTag = "revision";
    public const string VerifiedTag = "verified";

    private const long MaxManifestBytes = 1024 * 1024;

    private readonly IBackupStore _store;
    private readonly TimeProvider _timeProvider;

    public BackupCatalog(IBackupStore store, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The store the catalog reads.</summary>
    public IBackupStore Store => _store;

    /// <summary>Tags for an artifact: cluster, revision and whether it was verified.</summary>
    public static IReadOnlyDictionary<string, string> ArtifactTags(string cluster, long revision, bool verified) =>
        new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [ClusterTag] = cluster,
            [RevisionTag] = revision.ToString(CultureInfo.InvariantCulture),
            [VerifiedTag] = verified ? "true" : "false",
        };

    /// <summary>
    /// Writes the manifest, the commit point of the backup. The artifact must already be committed (checked).
    /// Throws <see cref="BackupObjectExistsException"/> if the backup already has a manifest.
    /// </summary>
    public async Task<StoredObjectInfo> WriteManifestAsync(BackupManifest manifest, DateTimeOffset? retainUntil = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var expectedArtifact = BackupNaming.ArtifactName(manifest.Cluster, manifest.BackupId);
        if (!string.Equals(manifest.Artifact.Name, expectedArtifact, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The manifest's artifact name must be '{expectedArtifact}'.", nameof(manifest));
        }

        var artifact = await _store.GetInfoAsync(expectedArtifact, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Artifact '{expectedArtifact}' is not committed; the manifest is written last.");
        if (artifact.Length != manifest.Artifact.Size)
        {
            throw new InvalidOperationException(
                $"Artifact '{expectedArtifact}' has {artifact.Length} bytes but the manifest says {manifest.Artifact.Size}.");
        }

        if (manifest.Bundle is { } bundle)
        {
            var stored = await _store.GetInfoAsync(bundle.Name, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(bundle.Name, BackupNaming.BundleName(manifest.Cluster, manifest.BackupId), StringComparison.Ordinal) || stored?.Length != bundle.Size)
            {
                throw new InvalidOperationException($"Bundle '{bundle.Name}' is not committed as the manifest describes it ({bundle.Size} bytes); the manifest is written last.");
            }
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, CatalogJsonContext.Default.BackupManifest);
        var options = new BackupObjectWriteOptions
        {
            ContentType = "application/json",
            RetainUntil = retainUntil ?? manifest.Artifact.RetainUntil,
            Tags = ArtifactTags(manifest.Cluster, manifest.Snapshot.Revision, manifest.Flags.Verified),
        };
        var writer = await _store.OpenWriteAsync(BackupNaming.ManifestName(manifest.Cluster, manifest.BackupId), options, cancellationToken)
            .ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            await writer.Content.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            return await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The cluster's readable backups (manifests), newest first; damaged catalog entries are left out (see <see cref="ScanAsync"/>).</summary>
    public async Task<IReadOnlyList<BackupManifest>> ListAsync(string cluster, CancellationToken cancellationToken = default) =>
        (await ScanAsync(cluster, cancellationToken).ConfigureAwait(false)).Backups;

    /// <summary>
    /// The cluster's backups, newest first, and the catalog entries that could not be read (unparsable, too
    /// large, or describing another backup). One damaged manifest never hides the others: it is reported by
    /// name and skipped, so listing, retention and new backups go on.
    /// </summary>
    public async Task<CatalogScan> ScanAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var ids = await ListBackupIdsAsync(cluster, cancellationToken).ConfigureAwait(false);
        var manifests = new List<BackupManifest>(ids.Count);
        var damaged = new List<DamagedCatalogEntry>();
        foreach (var id in ids)
        {
            var manifest = await TryReadOrReportAsync(cluster, id, damaged, cancellationToken).ConfigureAwait(false);
            if (manifest is not null)
            {
                manifests.Add(manifest);
            }
        }

        return new CatalogScan(manifests, damaged);
    }

    /// <summary>Backup ids that have a manifest, newest first (no manifest is read).</summary>
    public async Task<IReadOnlyList<string>> ListBackupIdsAsync(string cluster, CancellationToken cancellationToken = default)
    {
        var ids = new List<string>();
        await foreach (var info in _store.ListAsync(BackupNaming.ClusterPrefix(cluster), cancellationToken).ConfigureAwait(false))
        {
            if (BackupNaming.TryParseObjectName(cluster, info.Name, BackupNaming.ManifestSuffix, out var id))
            {
                ids.Add(id);
            }
        }

        ids.Sort((a, b) => string.CompareOrdinal(b, a));
        return ids;
    }

    /// <summary>One backup's manifest. Throws <see cref="BackupObjectNotFoundException"/> when it has none.</summary>
    public async Task<BackupManifest> GetAsync(string cluster, string backupId, CancellationToken cancellationToken = default) =>
        await TryReadAsync(cluster, backupId, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupObjectNotFoundException($"Backup '{backupId}' of cluster '{cluster}' not found in {_store.Description}.");

    /// <summary>The newest backup, or <see langword="null"/> when the cluster has none.</summary>
    public async Task<BackupManifest?> GetLatestAsync(string cluster, CancellationToken cancellationToken = default)
    {
        // A damaged newest entry is skipped: "latest" is the newest backup that can be trusted to describe itself.
        foreach (var id in await ListBackupIdsAsync(cluster, cancellationToken).ConfigureAwait(false))
        {
            var manifest = await TryReadOrReportAsync(cluster, id, damaged: null, cancellationToken).ConfigureAwait(false);
            if (manifest is not null)
            {
                return manifest;
            }
        }

        return null;
    }

    /// <summary>Sets the artifact's <c>verified</c> tag (tags stay writable on immutable objects).</summary>
    public async Task SetVerifiedTagAsync(BackupManifest manifest, bool verified, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var tags = new Dictionary<string, string>(
            await _store.GetTagsAsync(manifest.Artifact.Name, cancellationToken).ConfigureAwait(false), StringComparer.Ordinal)
        {
            [VerifiedTag] = verified ? "true" : "false",
        };
        await _store.SetTagsAsync(manifest.Artifact.Name, tags, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Artifacts without a manifest that are older than <paramref name="gracePeriod"/> (younger ones may belong to a running backup).</summary>
    public async Task<IReadOnlyList<StoredObjectInfo>> FindOrphansAsync(string cluster, TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        var cutoff = _timeProvider.GetUtcNow() - gracePeriod;
        var artifacts = new List<(string Id, StoredObjectInfo Info)>();
        var manifests = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var info in _store.ListAsync(BackupNaming.ClusterPrefix(cluster), cancellationToken).ConfigureAwait(false))
        {
            if (BackupNaming.TryParseObjectName(cluster, info.Name, BackupNaming.ManifestSuffix, out var manifestId))
            {
                manifests.Add(manifestId);
            }
            else if (BackupNaming.TryParseObjectName(cluster, info.Name, BackupNaming.ArtifactSuffix, out var artifactId)
                || BackupNaming.TryParseObjectName(cluster, info.Name, BackupNaming.BundleSuffix, out artifactId))
            {
                artifacts.Add((artifactId, info));
            }
        }

        return [.. artifacts.Where(a => !manifests.Contains(a.Id) && a.Info.LastModified <= cutoff).Select(a => a.Info)];
    }

    /// <summary>Deletes orphans found by <see cref="FindOrphansAsync"/>; those still immutable are skipped and returned.</summary>
    public async Task<OrphanCleanupResult> CleanupOrphansAsync(string cluster, TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        var deleted = new List<string>();
        var immutable = new List<string>();
        foreach (var orphan in await FindOrphansAsync(cluster, gracePeriod, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await _store.DeleteAsync(orphan.Name, cancellationToken).ConfigureAwait(false);
                deleted.Add(orphan.Name);
            }
            catch (BackupObjectImmutableException)
            {
                immutable.Add(orphan.Name);
            }
            catch (BackupObjectNotFoundException)
            {
                // Gone already.
            }
        }

        return new OrphanCleanupResult(deleted, immutable);
    }

    private async Task<BackupManifest?> TryReadOrReportAsync(
        string cluster, string backupId, List<DamagedCatalogEntry>? damaged, CancellationToken cancellationToken)
    {
        try
        {
            return await TryReadAsync(cluster, backupId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            damaged?.Add(new DamagedCatalogEntry(BackupNaming.ManifestName(cluster, backupId), backupId, ex.Message));
            return null;
        }
    }

    private async Task<BackupManifest?> TryReadAsync(string cluster, string backupId, CancellationToken cancellationToken)
    {
        var name = BackupNaming.ManifestName(cluster, backupId);
        Stream stream;
        try
        {
            stream = await _store.OpenReadAsync(name, 0, MaxManifestBytes + 1, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupObjectNotFoundException)
        {
            return null;
        }

        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > MaxManifestBytes)
            {
                throw new InvalidDataException($"Manifest '{name}' is larger than {MaxManifestBytes} bytes.");
            }

            BackupManifest? manifest;
            try
            {
                manifest = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), CatalogJsonContext.Default.BackupManifest);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"Manifest '{name}' is not a valid manifest: {ex.Message}", ex);
            }

            if (manifest?.Source is null || manifest.Snapshot is null || manifest.Artifact is null || manifest.Key is null
                || manifest.Durations is null || manifest.Flags is null)
            {
                throw new InvalidDataException($"Manifest '{name}' is incomplete (a section is missing or null).");
            }

            if (!string.Equals(manifest.BackupId, backupId, StringComparison.Ordinal)
                || !string.Equals(manifest.Cluster, cluster, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Manifest '{name}' does not describe backup '{backupId}' of cluster '{cluster}'.");
            }

            return manifest;
        }
    }
}

/// <summary>What <see cref="BackupCatalog.ScanAsync"/> found: the readable backups and the damaged entries.</summary>
internal sealed record CatalogScan(IReadOnlyList<BackupManifest> Backups, IReadOnlyList<DamagedCatalogEntry> Damaged);

/// <summary>A manifest that could not be read: its object name, the backup id in that name, and why.</summary>
internal sealed record DamagedCatalogEntry(string Name, string BackupId, string Reason)
{
    /// <summary>One line for warnings: "manifest NAME is damaged: REASON (skipped)".</summary>
    public override string ToString() => $"manifest {Name} is damaged and was skipped: {Reason}";
}

/// <summary>Outcome of an orphan cleanup.</summary>
internal sealed record OrphanCleanupResult(IReadOnlyList<string> Deleted, IReadOnlyList<string> SkippedImmutable);
