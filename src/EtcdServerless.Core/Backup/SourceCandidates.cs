using System.Globalization;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;

namespace EtcdServerless.Core.Backup;

/// <summary>A member that can serve the snapshot, with the Status it answered.</summary>
internal sealed record SourceCandidate(Uri Endpoint, string Name, EtcdStatus Status);

/// <summary>The ranked candidates and why the other members were left out.</summary>
internal sealed record SourceRanking(IReadOnlyList<SourceCandidate> Candidates, IReadOnlyList<string> Skipped);

/// <summary>
/// Chooses snapshot sources (ARCHITECTURE §4 step 1): Status on every configured endpoint in parallel with a
/// short timeout, MemberList to discover the rest; eligible = reachable, no alarm, has a leader, not a learner,
/// applied index close to the leader's; followers first (they spare the leader), then the leader; the rest
/// are the ordered fallbacks.
/// </summary>
internal static class SourceCandidates
{
    public static async Task<SourceRanking> RankAsync(BackupEnvironment environment, ClusterOptions cluster, CancellationToken cancellationToken = default)
    {
        var skipped = new List<string>();
        var endpoints = cluster.Endpoints.Select(e => new Uri(e.Contains("://", StringComparison.Ordinal) ? e : "http://" + e)).Distinct().ToList();
        var probes = await Task.WhenAll(endpoints.Select(e => ProbeAsync(environment, cluster, e, cancellationToken))).ConfigureAwait(false);

        // Discover members not in the configuration through the first member that answers MemberList.
        var names = new Dictionary<ulong, string>();
        foreach (var probe in probes.Where(p => p.Status is not null))
        {
            try
            {
                using var client = environment.Clients.Create(cluster, probe.Endpoint);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(environment.Pipeline.StatusTimeout);
                var members = await client.MemberListAsync(timeout.Token).ConfigureAwait(false);
                foreach (var member in members.Members)
                {
                    names[member.Id] = member.Name;
                }

                var extra = members.Members.Where(m => !m.IsLearner).SelectMany(m => m.ClientUrls).Select(u => new Uri(u))
                    .Where(u => !endpoints.Contains(u)).Distinct().ToList();
                if (extra.Count > 0)
                {
                    endpoints.AddRange(extra);
                    probes = [.. probes, .. await Task.WhenAll(extra.Select(e => ProbeAsync(environment, cluster, e, cancellationToken))).ConfigureAwait(false)];
                }

                break;
            }
            catch (Exception ex) when (ex is EtcdException or HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Discovery is a bonus: the configured endpoints are still usable.
            }
        }

        var answered = probes.Where(p => p.Status is not null).ToList();
        foreach (var probe in probes.Where(p => p.Status is null))
        {
            skipped.Add($"{probe.Endpoint}: unreachable ({probe.Error})");
        }

        var leaderApplied = answered.Where(p => p.Status!.IsLeader).Select(p => p.Status!.RaftAppliedIndex).DefaultIfEmpty(0UL).Max();
        var candidates = new List<SourceCandidate>();
        foreach (var probe in answered)
        {
            var status = probe.Status!;
            string? reason = status.Errors.Count > 0 ? "alarm: " + string.Join("; ", status.Errors)
                : status.Leader == 0 ? "no leader"
                : status.IsLearner ? "learner"
                : leaderApplied > status.RaftAppliedIndex && leaderApplied - status.RaftAppliedIndex > environment.Pipeline.MaxAppliedIndexLag
                    ? string.Create(CultureInfo.InvariantCulture, $"applied index {status.RaftAppliedIndex} lags the leader's {leaderApplied}")
                : null;
            if (reason is not null)
            {
                skipped.Add($"{probe.Endpoint}: {reason}");
                continue;
            }

            var name = names.TryGetValue(status.Header.MemberId, out var n) ? n : "";
            candidates.Add(new SourceCandidate(probe.Endpoint, name, status));
        }

        var ordered = candidates
            .OrderBy(c => c.Status.IsLeader)
            .ThenByDescending(c => c.Status.RaftAppliedIndex)
            .ThenBy(c => c.Endpoint.ToString(), StringComparer.Ordinal)
            .ToList();
        return new SourceRanking(ordered, skipped);
    }

    private static async Task<(Uri Endpoint, EtcdStatus? Status, string? Error)> ProbeAsync(
        BackupEnvironment environment, ClusterOptions cluster, Uri endpoint, CancellationToken cancellationToken)
    {
        try
        {
            using var client = environment.Clients.Create(cluster, endpoint);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(environment.Pipeline.StatusTimeout);
            return (endpoint, await client.StatusAsync(timeout.Token).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is EtcdException or HttpRequestException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return (endpoint, null, ex.Message);
        }
    }
}
