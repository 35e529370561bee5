namespace EtcdServerless.Core.Deltas;

/// <summary>One unbroken run of captured revisions: segments that follow or overlap each other.</summary>
internal sealed record DeltaCoverageRange(long FromRevision, long ToRevision, DateTimeOffset FirstCaptured, DateTimeOffset LastCaptured, int Segments);

/// <summary>What a cluster's segments cover: unbroken ranges in revision order (a gap lies between two ranges).</summary>
internal static class DeltaCoverage
{
    public static IReadOnlyList<DeltaCoverageRange> Compute(IEnumerable<DeltaManifest> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var ranges = new List<DeltaCoverageRange>();
        foreach (var s in segments.OrderBy(s => s.FromRevision).ThenBy(s => s.ToRevision))
        {
            if (ranges.Count > 0 && s.FromRevision <= ranges[^1].ToRevision + 1)
            {
                var last = ranges[^1];
                ranges[^1] = last with
                {
                    ToRevision = Math.Max(last.ToRevision, s.ToRevision),
                    LastCaptured = s.Captured > last.LastCaptured ? s.Captured : last.LastCaptured,
                    Segments = last.Segments + 1,
                };
            }
            else
            {
                ranges.Add(new DeltaCoverageRange(s.FromRevision, s.ToRevision, s.Captured, s.Captured, 1));
            }
        }

        return ranges;
    }
}
