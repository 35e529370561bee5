using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Etcd.Endpoints;

/// <summary>A member that can serve a snapshot, with why it got its rank.</summary>
internal sealed record SnapshotSourceCandidate(
    Uri Endpoint,
    ulong MemberId,
    string Name,
    bool IsLeader,
    ulong RaftAppliedIndex,
    ulong RaftTerm,
    string Version,
    long DbSize,
    string Reason)
{
    /// <summary>The status the ranking was based on (null when built by hand, e.g. in tests).</summary>
    public EtcdStatus? Status { get; init; }

    /// <summary>Member id as etcd prints it (hex).</summary>
    public string MemberIdHex => MemberId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A candidate for an endpoint about which nothing is known (manual plans, tests).</summary>
    public static SnapshotSourceCandidate Unranked(Uri endpoint, string name = "") =>
        new(endpoint, 0, name.Length > 0 ? name : endpoint.Authority, false, 0, 0, "", 0, "given explicitly");
}

/// <summary>An endpoint or member that was not used, and why.</summary>
internal sealed record SnapshotSourceRejection(Uri? Endpoint, string Name, string Reason, Exception? Error = null);

/// <summary>Ordered snapshot sources: try <see cref="Ranked"/>[0] first, then the rest as fallbacks.</summary>
internal sealed record SnapshotSourcePlan(IReadOnlyList<SnapshotSourceCandidate> Ranked, IReadOnlyList<SnapshotSourceRejection> Rejected)
{
    /// <summary>Cluster id seen in the replies (0 if nothing answered).</summary>
    public ulong ClusterId { get; init; }

    /// <summary>Leader member id seen by the reachable members (0 if none).</summary>
    public ulong LeaderId { get; init; }

    /// <summary>Notes that did not exclude anything (e.g. the alarm list could not be read).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A plan that tries exactly the given endpoints in order (no status checks).</summary>
    public static SnapshotSourcePlan FromEndpoints(IEnumerable<Uri> endpoints) =>
        new([.. endpoints.Select(e => SnapshotSourceCandidate.Unranked(e))], []);

    /// <summary>One line per rejected member, for error messages.</summary>
    public string DescribeRejections() =>
        Rejected.Count == 0 ? "no endpoints" : string.Join("; ", Rejected.Select(r => $"{r.Name} ({r.Endpoint}): {r.Reason}"));
}
