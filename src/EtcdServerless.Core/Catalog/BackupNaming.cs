using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EtcdServerless.Core.Catalog;

/// <summary>
/// Names of backups and their objects. A backup id is <c>yyyyMMddTHHmmssfffZ-r{revision:D12}</c> (UTC), so
/// ordinal order is time order; objects live under <c>{cluster}/{yyyy}/{MM}/{dd}/</c> as
/// <c>{backupId}.snap.enc</c> (artifact) and <c>{backupId}.manifest.json</c> (manifest).
/// </summary>
internal static partial class BackupNaming
{
    public const string ArtifactSuffix = ".snap.enc";
    public const string ManifestSuffix = ".manifest.json";

    /// <summary>Suffix of the sealed control-plane bundle beside a backup's snapshot.</summary>
    public const string BundleSuffix = ".bundle.enc";
    private const string TimeFormat = "yyyyMMdd'T'HHmmssfff'Z'";

    /// <summary>The word every verb and API accepts instead of an id: the cluster's newest readable backup.</summary>
    public const string Latest = "latest";

    /// <summary>What a backup reference looks like, for error messages (a valid example id).</summary>
    public const string ReferenceHint = "expected a backup id such as 20261121T101500123Z-r000000000042, or 'latest'";

    /// <summary>True for <c>latest</c> (any case).</summary>
    public static bool IsLatest(string? reference) => string.Equals(reference?.Trim(), Latest, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The one parser of backup references (CLI verbs, HTTP bodies, restore): <c>latest</c> or a backup id.
    /// Returns false with a one-line <paramref name="error"/> otherwise.
    /// </summary>
    public static bool TryParseReference(string? reference, out bool latest, [NotNullWhen(false)] out string? error)
    {
        latest = IsLatest(reference);
        if (latest || TryParseBackupId(reference, out _, out _))
        {
            error = null;
            return true;
        }

        var shown = reference is null ? "" : reference.Length > 64 ? reference[..64] + "..." : reference;
        error = $"'{shown}' is not a backup reference ({ReferenceHint})";
        return false;
    }

    /// <summary>Creates the id of a backup taken at <paramref name="created"/> of a snapshot at <paramref name="revision"/>.</summary>
    public static string CreateBackupId(DateTimeOffset created, long revision)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(revision);
        return created.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture) + "-r" + revision.ToString("D12", CultureInfo.InvariantCulture);
    }

    /// <summary>Parses a backup id into its time and revision.</summary>
    public static bool TryParseBackupId(string? backupId, out DateTimeOffset created, out long revision)
    {
        created = default;
        revision = 0;
        if (backupId is null || !BackupIdPattern().IsMatch(backupId))
        {
            return false;
        }

        var dash = backupId.IndexOf('-', StringComparison.Ordinal);
        if (!DateTime.TryParseExact(backupId[..dash], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
            || !long.TryParse(backupId.AsSpan(dash + 2), NumberStyles.None, CultureInfo.InvariantCulture, out revision))
        {
            return false;
        }

        created = new DateTimeOffset(time, TimeSpan.Zero);
        return true;
    }

    /// <summary>The cluster-name rule, for messages.</summary>
    public const string ClusterRule = "1-63 characters of lowercase letters, digits, '.', '_' and '-', starting with a letter or digit";

    /// <summary>True for a valid cluster name: the one rule configuration validation and object names share.</summary>
    public static bool IsValidCluster(string? cluster) => !string.IsNullOrEmpty(cluster) && ClusterPattern().IsMatch(cluster);

    /// <summary>Throws <see cref="ArgumentException"/> for an invalid cluster name (DNS-label-like, 1-63 chars).</summary>
    public static void ValidateCluster(string cluster)
    {
        if (!IsValidCluster(cluster))
        {
            throw new ArgumentException($"Invalid cluster name '{cluster}': use {ClusterRule}.", nameof(cluster));
        }
    }

    public static string ArtifactName(string cluster, string backupId) => Folder(cluster, backupId) + backupId + ArtifactSuffix;

    public static string ManifestName(string cluster, string backupId) => Folder(cluster, backupId) + backupId + ManifestSuffix;

    /// <summary>The sealed control-plane bundle of a backup.</summary>
    public static string BundleName(string cluster, string backupId) => Folder(cluster, backupId) + backupId + BundleSuffix;

    /// <summary>The listing prefix of one cluster.</summary>
    public static string ClusterPrefix(string cluster)
    {
        ValidateCluster(cluster);
        return cluster + "/";
    }

    /// <summary>Recognises an artifact or manifest name of <paramref name="cluster"/> and returns its backup id.</summary>
    public static bool TryParseObjectName(string cluster, string name, string suffix, [NotNullWhen(true)] out string? backupId)
    {
        backupId = null;
        if (!name.StartsWith(cluster + "/", StringComparison.Ordinal) || !name.EndsWith(suffix, StringComparison.Ordinal))
        {
            return false;
        }

        var file = name[(name.LastIndexOf('/') + 1)..^suffix.Length];
        if (!TryParseBackupId(file, out _, out _) || !string.Equals(name, Folder(cluster, file) + file + suffix, StringComparison.Ordinal))
        {
            return false;
        }

        backupId = file;
        return true;
    }

    private static string Folder(string cluster, string backupId)
    {
        ValidateCluster(cluster);
        if (!TryParseBackupId(backupId, out var created, out _))
        {
            throw new ArgumentException($"Invalid backup id '{backupId}'.", nameof(backupId));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{cluster}/{created:yyyy}/{created:MM}/{created:dd}/");
    }

    [GeneratedRegex("^[0-9]{8}T[0-9]{9}Z-r[0-9]{12,19}$", RegexOptions.CultureInvariant)]
    private static partial Regex BackupIdPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex ClusterPattern();
}
