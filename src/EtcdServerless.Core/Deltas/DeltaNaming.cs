using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using EtcdServerless.Core.Catalog;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// Names of delta segments: a segment id is <c>r{from:D12}-r{to:D12}</c> (the revision range it holds, inclusive),
/// so ordinal order is revision order; objects live under <c>{cluster}/deltas/</c> as <c>{segmentId}.delta.enc</c>
/// (artifact) and <c>{segmentId}.delta.json</c> (manifest, written last). Full backups never use that folder, so the
/// backup catalog does not see segments.
/// </summary>
internal static partial class DeltaNaming
{
    public const string ArtifactSuffix = ".delta.enc";
    public const string ManifestSuffix = ".delta.json";
    private const string Folder = "deltas/";

    /// <summary>The id of the segment holding revisions <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static string SegmentId(long from, long to)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(from, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(to, from);
        return string.Create(CultureInfo.InvariantCulture, $"r{from:D12}-r{to:D12}");
    }

    /// <summary>Parses a segment id into its revision range.</summary>
    public static bool TryParseSegmentId(string? segmentId, out long from, out long to)
    {
        from = to = 0;
        if (segmentId is null || !SegmentIdPattern().IsMatch(segmentId))
        {
            return false;
        }

        var dash = segmentId.IndexOf('-', StringComparison.Ordinal);
        return long.TryParse(segmentId.AsSpan(1, dash - 1), NumberStyles.None, CultureInfo.InvariantCulture, out from)
            && long.TryParse(segmentId.AsSpan(dash + 2), NumberStyles.None, CultureInfo.InvariantCulture, out to)
            && from >= 1 && to >= from;
    }

    /// <summary>The listing prefix of a cluster's segments.</summary>
    public static string Prefix(string cluster) => BackupNaming.ClusterPrefix(cluster) + Folder;

    public static string ArtifactName(string cluster, string segmentId) => Prefix(cluster) + Checked(segmentId) + ArtifactSuffix;

    public static string ManifestName(string cluster, string segmentId) => Prefix(cluster) + Checked(segmentId) + ManifestSuffix;

    /// <summary>Recognises a segment manifest name of <paramref name="cluster"/> and returns its segment id.</summary>
    public static bool TryParseManifestName(string cluster, string name, [NotNullWhen(true)] out string? segmentId)
    {
        segmentId = null;
        var prefix = Prefix(cluster);
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(ManifestSuffix, StringComparison.Ordinal))
        {
            return false;
        }

        var id = name[prefix.Length..^ManifestSuffix.Length];
        if (!TryParseSegmentId(id, out _, out _))
        {
            return false;
        }

        segmentId = id;
        return true;
    }

    private static string Checked(string segmentId) =>
        TryParseSegmentId(segmentId, out _, out _) ? segmentId : throw new ArgumentException($"Invalid segment id '{segmentId}'.", nameof(segmentId));

    [GeneratedRegex("^r[0-9]{12,19}-r[0-9]{12,19}$", RegexOptions.CultureInvariant)]
    private static partial Regex SegmentIdPattern();
}
