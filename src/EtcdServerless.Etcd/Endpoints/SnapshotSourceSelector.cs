using System.Globalization;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Etcd.Endpoints;

/// <summary>
/// Chooses the member to stream a snapshot from: Status on every endpoint in parallel (short deadline),
/// MemberList to discover the members that were not configured, the cluster alarm list, then a ranking:
/// reachable, same cluster, has a leader, no CORRUPT alarm, applied index close to the leader's; followers
/// before the leader (a snapshot costs the serving member disk and network), members with a NOSPACE alarm
/// and learners last. Everything not used is reported with a reason.
/// </summary>
internal sealed class SnapshotSourceSelector
{
    private readonly EtcdClientOptions _template;
    private readonly SnapshotSourceSelectorOptions _options;
    private readonly ILogger _logger;

    /// <param name="template">TLS material and credentials used for every endpoint (its Endpoint is ignored).</param>
    /// <param name="options">Timeouts and ranking knobs.</param>
    /// <param name="logger">Receives one line per rejected member and the chosen plan.</param>
    public SnapshotSourceSelector(EtcdClientOptions template, SnapshotSourceSelectorOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        _template = template;
        _options = options ?? new SnapshotSourceSelectorOptions();
        _logger = logger ?? NullLogger.Instance;
    }

    public async Task<SnapshotSourcePlan> SelectAsync(IEnumerable<Uri> endpoints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var configured = endpoints.Select(Normalize).Distinct().ToList();
        if (configured.Count == 0)
        {
            throw new ArgumentException("At least one endpoint is required.", nameof(endpoints));
        }

        var probes = (await Task.WhenAll(configured.Select(e => ProbeAsync(e, cancellationToken))).ConfigureAwait(false)).ToList();
        var warnings = new List<string>();
        var rejected = new List<SnapshotSourceRejection>();

        // Discover members that were not configured, from the first member that answers MemberList.
        var members = await ListMembersAsync(probes, warnings, cancellationToken).ConfigureAwait(false);

        if (members is not null && _options.DiscoverMembers)
        {
            probes.AddRange(await ProbeUnconfiguredAsync(probes, configured, members, rejected, cancellationToken).ConfigureAwait(false));
        }

        // Cluster-wide alarms (one call answers for every member).
        var alarms = await ListAlarmsAsync(probes, warnings, cancellationToken).ConfigureAwait(false);

        var reachable = probes.Where(p => p.Status is not null).ToList();
        foreach (var probe in probes.Where(p => p.Status is null))
        {
            rejected.Add(new SnapshotSourceRejection(probe.Endpoint, NameFor(members, probe.Endpoint), "unreachable: " + probe.Error!.Message, probe.Error));
        }

        // The cluster is the one most reachable endpoints belong to; a stray endpoint of another cluster is refused.
        var clusterId = reachable.GroupBy(p => p.Status!.Header.ClusterId).OrderByDescending(g => g.Count()).FirstOrDefault()?.Key ?? 0;
        var leaderId = reachable.Where(p => p.Status!.Header.ClusterId == clusterId && p.Status.Leader != 0)
            .GroupBy(p => p.Status!.Leader).OrderByDescending(g => g.Count()).FirstOrDefault()?.Key ?? 0;
        var leaderApplied = reachable.FirstOrDefault(p => p.Status!.Header.MemberId == leaderId && leaderId != 0)?.Status!.RaftAppliedIndex
            ?? reachable.Select(p => p.Status!.RaftAppliedIndex).DefaultIfEmpty(0ul).Max();

        var ranked = new List<(SnapshotSourceCandidate Candidate, int Tier, ulong Lag)>();
        var seen = new HashSet<ulong>();
        foreach (var probe in reachable)
        {
            var s = probe.Status!;
            var name = NameFor(members, probe.Endpoint, s.Header.MemberId);
            if (!seen.Add(s.Header.MemberId))
            {
                continue; // Same member reached under two URLs: keep the first (configured) one.
            }

            var lag = leaderApplied > s.RaftAppliedIndex ? leaderApplied - s.RaftAppliedIndex : 0;
            var reason = RejectionReason(s, clusterId, alarms, leaderApplied, lag);
            if (reason is not null)
            {
                rejected.Add(new SnapshotSourceRejection(probe.Endpoint, name, reason));
                _logger.SourceRejected(probe.Endpoint.ToString(), reason);
                continue;
            }

            var noSpace = alarms.GetValueOrDefault(s.Header.MemberId) == EtcdAlarmType.NoSpace;
            var role = s.IsLearner ? "learner" : s.IsLeader ? "leader" : "follower";
            var tier = noSpace ? 3 : s.IsLearner ? 2 : (s.IsLeader != _options.PreferLeader) ? 1 : 0;
            var why = string.Create(CultureInfo.InvariantCulture,
                $"{role}, applied index {s.RaftAppliedIndex} ({lag} behind leader), term {s.RaftTerm}, db {s.DbSize} bytes")
                + (noSpace ? ", NOSPACE alarm (last resort)" : "");
            ranked.Add((new SnapshotSourceCandidate(probe.Endpoint, s.Header.MemberId, name, s.IsLeader, s.RaftAppliedIndex, s.RaftTerm, s.Version, s.DbSize, why)
            {
                Status = s,
            }, tier, lag));
        }

        return Plan(ranked, rejected, clusterId, leaderId, warnings);
    }

    /// <summary>The candidates best first (tier, then lag, then name), with the rejections and warnings.</summary>
    private SnapshotSourcePlan Plan(
        List<(SnapshotSourceCandidate Candidate, int Tier, ulong Lag)> ranked, List<SnapshotSourceRejection> rejected, ulong clusterId, ulong leaderId, List<string> warnings)
    {
        var plan = new SnapshotSourcePlan(
            [.. ranked.OrderBy(r => r.Tier).ThenBy(r => r.Lag).ThenBy(r => r.Candidate.Name, StringComparer.Ordinal).Select(r => r.Candidate)],
            rejected)
        {
            ClusterId = clusterId,
            LeaderId = leaderId,
            Warnings = warnings,
        };
        if (plan.Ranked.Count > 0)
        {
            _logger.SourcePlanned(plan.Ranked.Count, plan.Ranked[0].Endpoint.ToString(), plan.Ranked[0].Reason);
        }

        return plan;
    }

    /// <summary>The members as the first reachable endpoint that answers MemberList reports them; null when none does.</summary>
    private async Task<IReadOnlyList<EtcdMember>?> ListMembersAsync(IEnumerable<Probe> probes, List<string> warnings, CancellationToken cancellationToken)
    {
        foreach (var probe in probes.Where(p => p.Status is not null))
        {
            try
            {
                using var client = CreateClient(probe.Endpoint);
                return (await client.MemberListAsync(cancellationToken).ConfigureAwait(false)).Members;
            }
            catch (EtcdException ex)
            {
                warnings.Add($"member list from {probe.Endpoint} failed: {ex.Message}");
            }
        }

        return null;
    }

    /// <summary>Probes the members that were not configured; a member without a client URL yet is rejected.</summary>
    private async Task<Probe[]> ProbeUnconfiguredAsync(
        List<Probe> probes, List<Uri> configured, IReadOnlyList<EtcdMember> members, List<SnapshotSourceRejection> rejected, CancellationToken cancellationToken)
    {
        var knownIds = probes.Where(p => p.Status is not null).Select(p => p.Status!.Header.MemberId).ToHashSet();
        var extra = new List<Uri>();
        foreach (var member in members.Where(m => !knownIds.Contains(m.Id)))
        {
            var url = member.ClientUrls.FirstOrDefault(u => Uri.TryCreate(u, UriKind.Absolute, out _));
            if (url is null)
            {
                rejected.Add(new SnapshotSourceRejection(null, NameOf(member), "member has no client URL (not started yet)"));
                continue;
            }

            var uri = Normalize(new Uri(url));
            if (!configured.Contains(uri))
            {
                extra.Add(uri);
            }
        }

        return await Task.WhenAll(extra.Select(e => ProbeAsync(e, cancellationToken))).ConfigureAwait(false);
    }

    /// <summary>Each member's worst alarm, from the first reachable endpoint that answers AlarmList.</summary>
    private async Task<Dictionary<ulong, EtcdAlarmType>> ListAlarmsAsync(IEnumerable<Probe> probes, List<string> warnings, CancellationToken cancellationToken)
    {
        var alarms = new Dictionary<ulong, EtcdAlarmType>();
        foreach (var probe in probes.Where(p => p.Status is not null))
        {
            try
            {
                using var client = CreateClient(probe.Endpoint);
                foreach (var alarm in await client.AlarmListAsync(cancellationToken).ConfigureAwait(false))
                {
                    alarms[alarm.MemberId] = alarm.Alarm > alarms.GetValueOrDefault(alarm.MemberId) ? alarm.Alarm : alarms.GetValueOrDefault(alarm.MemberId);
                }

                break;
            }
            catch (EtcdException ex)
            {
                warnings.Add($"alarm list from {probe.Endpoint} failed: {ex.Message}");
            }
        }

        return alarms;
    }

    /// <summary>Why a reachable member cannot be the snapshot source, or null when it can.</summary>
    private string? RejectionReason(EtcdStatus s, ulong clusterId, Dictionary<ulong, EtcdAlarmType> alarms, ulong leaderApplied, ulong lag)
    {
        string? reason = null;
        if (s.Header.ClusterId != clusterId)
        {
            reason = $"belongs to cluster {s.Header.ClusterId:x}, not {clusterId:x}";
        }
        else if (s.Leader == 0)
        {
            reason = "has no leader";
        }
        else if (s.Errors.Count > 0)
        {
            reason = "reports errors: " + string.Join("; ", s.Errors);
        }
        else if (alarms.GetValueOrDefault(s.Header.MemberId) == EtcdAlarmType.Corrupt)
        {
            reason = "has a CORRUPT alarm";
        }

        if (reason is null && lag > _options.MaxAppliedIndexLag)
        {
            reason = $"applied index {s.RaftAppliedIndex} is {lag} behind the leader's {leaderApplied} (limit {_options.MaxAppliedIndexLag})";
        }

        return reason;
    }

    private async Task<Probe> ProbeAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        try
        {
            using var client = CreateClient(endpoint);
            var status = await client.StatusAsync(cancellationToken).ConfigureAwait(false);
            return new Probe(endpoint, status, null);
        }
        catch (EtcdException ex)
        {
            return new Probe(endpoint, null, ex);
        }
    }

    private EtcdClient CreateClient(Uri endpoint) =>
        new(_template.ForEndpoint(endpoint) with
        {
            CallTimeout = _options.StatusTimeout,
            DialTimeout = _options.StatusTimeout < _template.DialTimeout ? _options.StatusTimeout : _template.DialTimeout,
        });

    private static Uri Normalize(Uri endpoint) => new(endpoint.GetLeftPart(UriPartial.Authority) + "/");

    private static string NameOf(EtcdMember member) =>
        member.Name.Length > 0 ? member.Name : member.Id.ToString("x", CultureInfo.InvariantCulture);

    private static string NameFor(IReadOnlyList<EtcdMember>? members, Uri endpoint, ulong memberId = 0)
    {
        var byId = memberId == 0 ? null : members?.FirstOrDefault(m => m.Id == memberId);
        var byUrl = members?.FirstOrDefault(m => m.ClientUrls.Any(u => Uri.TryCreate(u, UriKind.Absolute, out var x) && Normalize(x) == Normalize(endpoint)));
        var member = byId ?? byUrl;
        return member is not null ? NameOf(member) : memberId != 0 ? memberId.ToString("x", CultureInfo.InvariantCulture) : endpoint.Authority;
    }

    private sealed record Probe(Uri Endpoint, EtcdStatus? Status, EtcdException? Error);
}
