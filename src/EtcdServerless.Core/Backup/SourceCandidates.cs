using EtcdServerless.Core.Configuration;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>A member that can serve the snapshot, with the Status facts the manifest records.</summary>
internal sealed record SourceCandidate(Uri Endpoint, string Name, ulong MemberId, bool IsLeader, ulong RaftTerm, ulong RaftIndex, string Version, long Revision);

/// <summary>The ranked candidates and why the other members were left out.</summary>
internal sealed record SourceRanking(IReadOnlyList<SourceCandidate> Candidates, IReadOnlyList<string> Skipped);

/// <summary>
/// Chooses snapshot sources (docs/architecture.md, "Choosing the snapshot source") with the Etcd project's <see cref="SnapshotSourceSelector"/>
/// (Status in parallel, MemberList discovery, alarms, leader and lag rules, followers first), using the
/// cluster's TLS and auth settings.
/// </summary>
internal static class SourceCandidates
{
    public static async Task<SourceRanking> RankAsync(BackupEnvironment environment, ClusterOptions cluster, CancellationToken cancellationToken = default)
    {
        var endpoints = EtcdClientOptions.ParseEndpoints(string.Join(',', cluster.Endpoints));
        var selector = new SnapshotSourceSelector(
            environment.Clients.CreateOptions(cluster, endpoints[0]),
            new SnapshotSourceSelectorOptions
            {
                StatusTimeout = environment.Pipeline.StatusTimeout,
                MaxAppliedIndexLag = environment.Pipeline.MaxAppliedIndexLag,
            },
            environment.LoggerFactory.CreateLogger(typeof(SourceCandidates)));
        var plan = await selector.SelectAsync(endpoints, cancellationToken).ConfigureAwait(false);
        return new SourceRanking(
            [.. plan.Ranked.Select(c => new SourceCandidate(
                c.Endpoint, c.Name, c.MemberId, c.IsLeader, c.RaftTerm, c.Status?.RaftIndex ?? c.RaftAppliedIndex, c.Version, c.Status?.Header.Revision ?? 0))],
            [.. plan.Rejected.Select(r => $"{r.Endpoint?.ToString() ?? r.Name}: {r.Reason}")]);
    }
}
