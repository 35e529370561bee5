using System.Globalization;

namespace EtcdServerless.Core.Restore;

/// <summary>
/// Restoring a snapshot into an older etcd than the one that wrote it is refused: a newer minor can have written
/// schema the older one does not read (etcd supports upgrades one minor at a time, not downgrades of data). Only
/// major.minor count; patch releases share a data format.
/// </summary>
internal static class EtcdVersionCheck
{
    /// <summary>
    /// Null when <paramref name="targetVersion"/> can take a snapshot from <paramref name="backupVersion"/> (or either
    /// is unknown); otherwise the refusal, naming both versions.
    /// </summary>
    public static string? Refusal(string member, string? backupVersion, string? targetVersion)
    {
        if (Parse(backupVersion) is not { } backup || Parse(targetVersion) is not { } target)
        {
            return null;
        }

        return target.CompareTo(backup) >= 0
            ? null
            : $"{member}: etcd {targetVersion} there is older than etcd {backupVersion} that wrote the backup; restoring into an older major/minor is refused (force it with --force-version / forceVersion)";
    }

    /// <summary>Major and minor of an etcd version string (<c>3.5.17</c>, <c>v3.4.23</c>, <c>3.6.0-rc.1</c>), or null.</summary>
    public static (int Major, int Minor)? Parse(string? version)
    {
        if (string.IsNullOrWhiteSpace(version))
        {
            return null;
        }

        var parts = version.Trim().TrimStart('v').Split('.');
        return parts.Length >= 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
                ? (major, minor)
                : null;
    }
}
