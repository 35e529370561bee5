using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Deltas;

/// <summary>What segment retention did.</summary>
internal sealed record DeltaRetentionResult(IReadOnlyList<string> Deleted, IReadOnlyList<string> Immutable);

/// <summary>
/// Keeps a segment while any retained full backup needs it: replay always starts after a full backup's exact
/// revision, so a segment that ends at or before the oldest full backup's revision can never be replayed and is
/// deleted (manifest first, so a listed segment always has its artifact; still-immutable ones are kept and reported).
/// With no full backup at all nothing is deleted.
/// </summary>
internal static class DeltaRetention
{
    public static async Task<DeltaRetentionResult> PruneAsync(IBackupStore store, IKeyStore keys, string cluster, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var backups = await new BackupCatalog(store).ListAsync(cluster, cancellationToken).ConfigureAwait(false);
        if (backups.Count == 0)
        {
            return new DeltaRetentionResult([], []);
        }

        var oldest = backups.Min(b => b.Snapshot.Revision);
        var deleted = new List<string>();
        var immutable = new List<string>();
        foreach (var segment in await new DeltaCatalog(store, keys).ListAsync(cluster, cancellationToken).ConfigureAwait(false))
        {
            if (segment.ToRevision > oldest)
            {
                continue;
            }

            try
            {
                await store.DeleteAsync(DeltaNaming.ManifestName(cluster, segment.SegmentId), cancellationToken).ConfigureAwait(false);
                await store.DeleteAsync(segment.Artifact.Name, cancellationToken).ConfigureAwait(false);
                deleted.Add(segment.SegmentId);
            }
            catch (BackupObjectImmutableException)
            {
                immutable.Add(segment.SegmentId);
            }
            catch (BackupObjectNotFoundException)
            {
                deleted.Add(segment.SegmentId);
            }
        }

        return new DeltaRetentionResult(deleted, immutable);
    }
}
