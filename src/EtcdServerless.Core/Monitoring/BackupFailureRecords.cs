using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Monitoring;

/// <summary>
/// The durable trace of one failed backup: written once by the backup orchestration's failure path, never changed.
/// Property names are a contract (camelCase JSON, docs/format.md).
/// </summary>
internal sealed record BackupFailureRecord
{
    /// <summary>Current record schema version.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Cluster { get; init; }

    /// <summary>When the failure was recorded (UTC, orchestration time).</summary>
    public required DateTimeOffset Failed { get; init; }

    /// <summary>When the backup started (UTC, orchestration time).</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary>The phase that failed: capture, manifest, or the activity whose fault ended the orchestration.</summary>
    public required string Phase { get; init; }

    /// <summary>Why, in one line (the same message the backup's result and the <c>BackupFailed</c> event carry).</summary>
    public required string Reason { get; init; }

    /// <summary><c>Scheduled</c> or <c>OnDemand</c>.</summary>
    public required string Trigger { get; init; }

    /// <summary>The orchestration instance that failed.</summary>
    public string? InstanceId { get; init; }
}

/// <summary>Source-generated JSON for failure records: camelCase, indented.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BackupFailureRecord))]
internal sealed partial class FailureJsonContext : JsonSerializerContext;

/// <summary>
/// Failure records in the store: <c>_failures/{cluster}/{yyyy}/{MM}/{yyyyMMddTHHmmssfffZ}-{random}.json</c>, each a
/// write-once object of its own (append-only: nothing is rewritten, and no manifest is touched). The folder starts
/// with '_', which no cluster name can, so the catalog's listing of a cluster never sees them. Months keep the
/// "newest failure" look-up to a few listings however long a cluster has been failing.
/// </summary>
internal static class BackupFailureRecords
{
    /// <summary>The top folder of failure records.</summary>
    public const string Folder = "_failures";

    /// <summary>How many calendar months back <see cref="GetLatestAsync"/> looks (this one and the two before).</summary>
    public const int LookBackMonths = 3;

    private const string Suffix = ".json";
    private const long MaxRecordBytes = 64 * 1024;

    /// <summary>The object name of a record (a random suffix, so two failures in one millisecond both stay).</summary>
    public static string Name(string cluster, DateTimeOffset failed, string unique) =>
        MonthPrefix(cluster, failed) + failed.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture) + "-" + unique + Suffix;

    private static string MonthPrefix(string cluster, DateTimeOffset time) =>
        string.Create(CultureInfo.InvariantCulture, $"{Folder}/{BackupNaming.ClusterPrefix(cluster)}{time.UtcDateTime:yyyy}/{time.UtcDateTime:MM}/");

    /// <summary>Writes the record (write-once) and returns its object name.</summary>
    /// <param name="store">The backup store.</param>
    /// <param name="record">The failure.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task<string> WriteAsync(IBackupStore store, BackupFailureRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(record);
        var name = Name(record.Cluster, record.Failed, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        var options = new BackupObjectWriteOptions
        {
            ContentType = "application/json",
            Tags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [BackupCatalog.ClusterTag] = record.Cluster,
                ["failure"] = record.Phase,
            },
        };
        var writer = await store.OpenWriteAsync(name, options, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            await writer.Content.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(record, FailureJsonContext.Default.BackupFailureRecord), cancellationToken).ConfigureAwait(false);
            await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        return name;
    }

    /// <summary>
    /// The newest failure of <paramref name="cluster"/> in the month of <paramref name="now"/> and the
    /// <see cref="LookBackMonths"/> - 1 before it, or null. Names sort by time, so only the newest record is read.
    /// </summary>
    public static async Task<BackupFailureRecord?> GetLatestAsync(IBackupStore store, string cluster, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var month = new DateTimeOffset(now.UtcDateTime.Year, now.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        for (var back = 0; back < LookBackMonths; back++)
        {
            string? newest = null;
            await foreach (var info in store.ListAsync(MonthPrefix(cluster, month.AddMonths(-back)), cancellationToken).ConfigureAwait(false))
            {
                if (info.Name.EndsWith(Suffix, StringComparison.Ordinal) && (newest is null || string.CompareOrdinal(info.Name, newest) > 0))
                {
                    newest = info.Name;
                }
            }

            if (newest is not null)
            {
                return await ReadAsync(store, newest, cluster, cancellationToken).ConfigureAwait(false);
            }
        }

        return null;
    }

    private static async Task<BackupFailureRecord> ReadAsync(IBackupStore store, string name, string cluster, CancellationToken cancellationToken)
    {
        var stream = await store.OpenReadAsync(name, 0, MaxRecordBytes + 1, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > MaxRecordBytes)
            {
                throw new InvalidDataException($"Failure record '{name}' is larger than {MaxRecordBytes} bytes.");
            }

            BackupFailureRecord? record;
            try
            {
                record = JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), FailureJsonContext.Default.BackupFailureRecord);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"Failure record '{name}' is not a valid failure record: {ex.Message}", ex);
            }

            return record is not null && string.Equals(record.Cluster, cluster, StringComparison.Ordinal)
                ? record
                : throw new InvalidDataException($"Failure record '{name}' does not describe cluster '{cluster}'.");
        }
    }
}
