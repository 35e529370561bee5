using System.Globalization;
using System.Text.Json;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Drills;

/// <summary>
/// Drill records in the store, beside the manifest they concern: <c>{backupId}.drill-{yyyyMMddTHHmmssfffZ}.json</c>.
/// Each is a write-once object of its own, so the manifest is never rewritten and a drill's history only grows.
/// </summary>
internal static class DrillRecords
{
    private const string Marker = ".drill-";
    private const string Suffix = ".json";
    private const long MaxRecordBytes = 1024 * 1024;

    /// <summary>The object name of a drill record.</summary>
    public static string Name(string cluster, string backupId, DateTimeOffset started) =>
        RecordPrefix(cluster, backupId) + started.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture) + Suffix;

    private static string RecordPrefix(string cluster, string backupId) =>
        BackupNaming.ManifestName(cluster, backupId)[..^BackupNaming.ManifestSuffix.Length] + Marker;

    /// <summary>Writes the record (write-once; a second drill in the same millisecond is <see cref="BackupObjectExistsException"/>).</summary>
    /// <param name="store">The backup store.</param>
    /// <param name="result">The drill.</param>
    /// <param name="retainUntil">Keep it immutable as long as its backup (retention deletes both); null for the store's default.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task<StoredObjectInfo> WriteAsync(IBackupStore store, DrillResult result, DateTimeOffset? retainUntil, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(result);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(result, DrillJsonContext.Default.DrillResult);
        var options = new BackupObjectWriteOptions
        {
            ContentType = "application/json",
            RetainUntil = retainUntil,
            Tags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [BackupCatalog.ClusterTag] = result.Cluster,
                ["drill"] = result.Outcome,
            },
        };
        var writer = await store.OpenWriteAsync(Name(result.Cluster, result.BackupId, result.Started), options, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            await writer.Content.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            return await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The newest drill of a backup, or <see langword="null"/> when it was never drilled.</summary>
    public static async Task<DrillResult?> GetLatestAsync(IBackupStore store, string cluster, string backupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var prefix = RecordPrefix(cluster, backupId);
        string? newest = null;
        await foreach (var info in store.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            // The time stamp sorts as text, so the greatest name is the newest drill.
            if (info.Name.EndsWith(Suffix, StringComparison.Ordinal) && (newest is null || string.CompareOrdinal(info.Name, newest) > 0))
            {
                newest = info.Name;
            }
        }

        return newest is null ? null : await ReadAsync(store, newest, cluster, backupId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes every drill record of a backup (retention, once the backup itself is gone). Best effort: a record the
    /// store refuses to delete yet stays, described by nothing; returns how many stayed.
    /// </summary>
    public static async Task<int> DeleteAllAsync(IBackupStore store, string cluster, string backupId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var names = new List<string>();
        await foreach (var info in store.ListAsync(RecordPrefix(cluster, backupId), cancellationToken).ConfigureAwait(false))
        {
            names.Add(info.Name);
        }

        var left = 0;
        foreach (var name in names)
        {
            try
            {
                await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (BackupObjectNotFoundException)
            {
            }
            catch (BackupStoreException)
            {
                left++;
            }
        }

        return left;
    }

    /// <summary>
    /// The newest drill of every drilled backup of a cluster, by backup id: one listing of the cluster, then one read
    /// per drilled backup (its newest record only).
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, DrillResult>> GetLatestByBackupAsync(IBackupStore store, string cluster, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var newest = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var info in store.ListAsync(BackupNaming.ClusterPrefix(cluster), cancellationToken).ConfigureAwait(false))
        {
            var file = info.Name[(info.Name.LastIndexOf('/') + 1)..];
            var marker = file.IndexOf(Marker, StringComparison.Ordinal);
            if (marker <= 0 || !file.EndsWith(Suffix, StringComparison.Ordinal))
            {
                continue;
            }

            // Only records in the folder their backup id names count (the same rule as for manifests).
            var backupId = file[..marker];
            if (!BackupNaming.TryParseBackupId(backupId, out _, out _) || !info.Name.StartsWith(RecordPrefix(cluster, backupId), StringComparison.Ordinal))
            {
                continue;
            }

            if (!newest.TryGetValue(backupId, out var current) || string.CompareOrdinal(info.Name, current) > 0)
            {
                newest[backupId] = info.Name;
            }
        }

        var drills = new Dictionary<string, DrillResult>(StringComparer.Ordinal);
        foreach (var (backupId, name) in newest)
        {
            drills[backupId] = await ReadAsync(store, name, cluster, backupId, cancellationToken).ConfigureAwait(false);
        }

        return drills;
    }

    private static async Task<DrillResult> ReadAsync(IBackupStore store, string name, string cluster, string backupId, CancellationToken cancellationToken)
    {
        var stream = await store.OpenReadAsync(name, 0, MaxRecordBytes + 1, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > MaxRecordBytes)
            {
                throw new InvalidDataException($"Drill record '{name}' is larger than {MaxRecordBytes} bytes.");
            }

            DrillResult? result;
            try
            {
                result = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), DrillJsonContext.Default.DrillResult);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"Drill record '{name}' is not a valid drill record: {ex.Message}", ex);
            }

            if (result is null || !string.Equals(result.Cluster, cluster, StringComparison.Ordinal) || !string.Equals(result.BackupId, backupId, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"Drill record '{name}' does not describe backup '{backupId}' of cluster '{cluster}'.");
            }

            return result;
        }
    }
}
