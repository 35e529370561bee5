using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Restore;
using Microsoft.DurableTask;
using EtcdServerless.Core.Restore.Activities;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.Restore;

/// <summary>
/// One-call restore of a whole cluster (docs/architecture.md, "Restore, as data flows"): plan (manifest, key, agent preflights), then stop all,
/// restore each (fan-out, the snapshot streamed to every agent), start all together, verify. A failure before the
/// start phase rolls every member back; at or after it, the result says which member is in which state.
/// Deterministic: all I/O happens in the activities.
/// </summary>
internal sealed class RestoreOrchestrator : TaskOrchestrator<RestoreRequest, RestoreResult>
{
    public const string OrchestrationName = "RestoreOrchestration";

    public override async Task<RestoreResult> RunAsync(TaskOrchestrationContext context, RestoreRequest input)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = await RunCoreAsync(context, input).ConfigureAwait(true);

        // RestoreSucceeded / RestoreFailed feed the "failed restore" alert (infra/modules/alerts.bicep).
        var log = context.CreateReplaySafeLogger<RestoreOrchestrator>();
        switch (result.Outcome)
        {
            case RestoreOutcome.Succeeded:
                log.RestoreSucceeded(result.Cluster, result.Reason ?? "");
                break;
            case RestoreOutcome.Planned:
                break;
            default:
                log.RestoreFailed(result.Cluster, result.Outcome.ToString(), result.Phase, result.Error ?? "");
                break;
        }

        return result;
    }

    private async Task<RestoreResult> RunCoreAsync(TaskOrchestrationContext context, RestoreRequest input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var started = context.CurrentUtcDateTime;
        var reports = input.Members.ToDictionary(m => m.Name, m => new MemberTrack(m.Name), StringComparer.Ordinal);
        RestoreResult Finish(RestoreOutcome outcome, string phase, string? error, RestorePlan? plan = null, RestoreVerification? verification = null) => new()
        {
            Cluster = input.Cluster,
            Outcome = outcome,
            Phase = phase,
            Error = error,
            Reason = input.Reason,
            Plan = plan,
            Members = [.. reports.Values.Select(r => r.ToReport())],
            Verification = verification,
            Started = started,
            Finished = context.CurrentUtcDateTime,
        };

        try
        {
            input.Validate();
        }
        catch (ArgumentException ex)
        {
            return Finish(RestoreOutcome.Rejected, "plan", ex.Message);
        }

        if (input.Members.Count == 0)
        {
            return Finish(RestoreOutcome.Rejected, "plan", $"no target members: configure Clusters:{input.Cluster}:Members or pass members");
        }

        // 0. Point in time: materialize first (a dry run only plans the chain); the rest restores that backup as any other.
        string? pointInTime = null;
        if (input.ToRevision is not null || input.ToTime is not null)
        {
            SetProgress(context, "materialize", reports);
            var pit = await context.CallActivityAsync<PointInTimeResult>(PointInTimeActivity.ActivityName,
                new PointInTimeRequest(input.Cluster, input.ToRevision, input.ToTime, input.DryRun)).ConfigureAwait(true);
            if (pit.BackupId is null)
            {
                return Finish(RestoreOutcome.Rejected, "plan", pit.Error ?? "the point in time could not be materialized");
            }

            input = input with { Backup = pit.BackupId };
            pointInTime = pit.Chain;
        }

        // 1. Plan: the backup and its key, then every agent in parallel. Nothing is touched yet.
        SetProgress(context, "plan", reports);
        var resolved = await context.CallActivityAsync<ResolveBackupOutput>(ResolveBackupActivity.ActivityName, new ResolveBackupInput(input.Cluster, input.Backup, input.FromFile, input.SkipHashCheck)).ConfigureAwait(true);
        if (resolved.Backup is not { } backup)
        {
            return Finish(RestoreOutcome.Rejected, "plan", resolved.Error ?? "the backup could not be resolved");
        }

        var preflights = await Task.WhenAll(input.Members.Select(m =>
            context.CallActivityAsync<PreflightOutput>(PreflightMemberActivity.ActivityName, new PreflightInput(m, backup.SnapshotSize)))).ConfigureAwait(true);
        var restoreId = input.RestoreId ?? $"r{context.NewGuid():N}"[..17];
        var (plan, problems) = BuildPlan(input, resolved, backup, preflights, restoreId, pointInTime);
        if (problems.Count > 0)
        {
            return Finish(RestoreOutcome.Rejected, "plan", "preflight failed, nothing was touched: " + string.Join("; ", problems), plan);
        }

        if (input.DryRun)
        {
            return Finish(RestoreOutcome.Planned, "plan", null, plan);
        }

        // 2-5. Stop, upload, restore (and the bundle), start: a result here means the restore ended early.
        var (ended, restored) = await RunMemberStepsAsync(context, input, plan, reports, Finish).ConfigureAwait(true);
        if (ended is not null)
        {
            return ended;
        }

        // 6. Verify from the outside.
        return await VerifyAsync(context, input, plan, restored, reports, Finish).ConfigureAwait(true);
    }

    /// <summary>
    /// The plan from the resolved backup and every agent's preflight: each member's restore command, the checks that
    /// passed and the problems that refuse the restore. Pure (no context), so it cannot disturb the replay.
    /// </summary>
    private static (RestorePlan Plan, List<string> Problems) BuildPlan(
        RestoreRequest input, ResolveBackupOutput resolved, RestoreBackupInfo backup, PreflightOutput[] preflights, string restoreId, string? pointInTime)
    {
        var token = string.IsNullOrWhiteSpace(input.Token) ? $"{input.Cluster}-{restoreId}" : input.Token;
        var initialCluster = string.Join(",", input.Members.Select(m => $"{m.Name}={m.PeerUrl}"));
        var checks = new List<string>(resolved.Checks);
        var problems = preflights.SelectMany(p => p.Problems).ToList();
        if (input.BumpRevision is > 0)
        {
            problems.AddRange(preflights.Where(p => p.Preflight is { SupportsBumpRevision: false }).Select(p => $"{p.Name}: the restore tool has no --bump-revision"));
        }

        var versions = preflights.Select(p => EtcdVersionCheck.Refusal(p.Name, backup.SourceEtcdVersion, p.Preflight?.EtcdVersion)).OfType<string>().ToList();
        if (input.RestoreBundle && backup.BundleTarSize is null)
        {
            problems.Add($"backup {backup.BackupId} has no control-plane bundle to restore (restoreBundle)");
        }

        if (input.ForceVersion)
        {
            checks.AddRange(versions.Select(v => $"ok: forced (forceVersion): {v}"));
        }
        else
        {
            problems.AddRange(versions);
        }

        checks.AddRange(preflights.Where(p => p.Problems.Count == 0).Select(p =>
            $"ok: {p.Name} agent ready (etcd {p.Preflight!.EtcdVersion}, {p.Preflight.RestoreTool}, {p.Preflight.FreeBytes} bytes free)"));
        var waves = RestoreDistribution.Waves(input.Members.Zip(preflights, (m, p) => (m.Name, p.Preflight?.HostId)));
        checks.Add(RestoreDistribution.Describe(waves));
        checks.AddRange(problems.Select(p => $"failed: {p}"));
        var plan = new RestorePlan
        {
            Cluster = input.Cluster,
            RestoreId = restoreId,
            Backup = backup,
            Token = token,
            InitialCluster = initialCluster,
            Members = [.. input.Members.Zip(preflights, (m, p) => new RestorePlanMember
            {
                Member = m,
                Preflight = p.Preflight,
                Command = Command(p.Preflight, m, initialCluster, token, restoreId, input.BumpRevision),
            })],
            Checks = checks,
            Waves = waves,
            PointInTime = pointInTime,
        };
        return (plan, problems);
    }

    /// <summary>
    /// Stops every member, streams the snapshot to them wave by wave (<see cref="RestorePlan.Waves"/>), restores each as
    /// soon as it holds the snapshot (and, opted in, the control-plane bundle), then starts all together. A failure
    /// before the start rolls every member back. Returns the result when the restore ended here, else the members'
    /// restore outputs for the verification. The activities run in the same order on every replay.
    /// </summary>
    private static async Task<(RestoreResult? Ended, IReadOnlyList<MemberStepOutput> Restored)> RunMemberStepsAsync(
        TaskOrchestrationContext context,
        RestoreRequest input,
        RestorePlan plan,
        Dictionary<string, MemberTrack> reports,
        Func<RestoreOutcome, string, string?, RestorePlan?, RestoreVerification?, RestoreResult> finish)
    {
        var restoreId = plan.RestoreId;
        var backup = plan.Backup;
        // 2. Stop every member: the followers together, then the leader (StopOrderActivity says why).
        SetProgress(context, "stop", reports);
        var stopLast = await StopLastAsync(context, input).ConfigureAwait(true);
        var stopped = new List<MemberStepOutput>();
        foreach (var wave in input.Members.GroupBy(m => stopLast.Contains(m.Name)).OrderBy(g => g.Key))
        {
            stopped.AddRange(await FanOutAsync(context, StopMemberActivity.ActivityName, wave.Select(m => new MemberStepInput(restoreId, m)), reports).ConfigureAwait(true));
            if (stopped.Any(s => !s.Succeeded))
            {
                break;
            }
        }

        if (stopped.Any(s => !s.Succeeded))
        {
            return (await RollBackAsync(context, input, restoreId, reports, "stop", stopped, plan, finish).ConfigureAwait(true), []);
        }

        // 3-4. Each wave's agents receive the artifact, read and decrypted once per wave and streamed to them at once;
        // they restore while the next wave receives (RestoreDistribution says why members sharing a host go in turn).
        SetProgress(context, "upload", reports);
        var members = input.Members.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var restoring = new List<Task<MemberStepOutput>>();
        List<MemberStepOutput> failedUploads = [];
        foreach (var wave in plan.Waves)
        {
            var delivered = await context.CallActivityAsync<DistributeSnapshotOutput>(DistributeSnapshotActivity.ActivityName, new DistributeSnapshotInput(
                restoreId, backup.ArtifactName, backup.SnapshotSha256, backup.SnapshotSize, [.. wave.Select(name => members[name])]) { SourceFile = backup.SourceFile }).ConfigureAwait(true);
            foreach (var upload in delivered.Members)
            {
                reports[upload.Name].Add(upload);
            }

            failedUploads = [.. delivered.Members.Where(s => !s.Succeeded)];
            if (failedUploads.Count > 0)
            {
                break;
            }

            restoring.AddRange(wave.Select(name => context.CallActivityAsync<MemberStepOutput>(RestoreMemberActivity.ActivityName, RestoreInput(plan, input, members[name]))));
        }

        // Restores already under way finish before any rollback, so none swaps a data dir behind the rollback's back.
        SetProgress(context, "restore", reports);
        var restored = await Task.WhenAll(restoring).ConfigureAwait(true);
        foreach (var result in restored)
        {
            reports[result.Name].Add(result);
        }

        if (failedUploads.Count > 0)
        {
            return (await RollBackAsync(context, input, restoreId, reports, "upload", failedUploads, plan, finish).ConfigureAwait(true), []);
        }

        if (restored.Any(s => !s.Succeeded))
        {
            return (await RollBackAsync(context, input, restoreId, reports, "restore", restored, plan, finish).ConfigureAwait(true), []);
        }

        // 4b. Opt-in: the control-plane bundle back on every member, before any starts (a failure rolls back like a restore's).
        if (input.RestoreBundle)
        {
            SetProgress(context, "bundle", reports);
            var bundled = await FanOutAsync(context, RestoreBundleActivity.ActivityName, input.Members.Select(m => new RestoreBundleInput(restoreId, input.Cluster, backup.BackupId, m)), reports).ConfigureAwait(true);
            if (bundled.Any(s => !s.Succeeded))
            {
                return (await RollBackAsync(context, input, restoreId, reports, "bundle", bundled, plan, finish).ConfigureAwait(true), []);
            }
        }

        // 5. Start all together: a restored member alone has no quorum.
        SetProgress(context, "start", reports);
        var startedMembers = await FanOutAsync(context, StartMemberActivity.ActivityName, input.Members.Select(m => new MemberStepInput(restoreId, m)), reports).ConfigureAwait(true);
        if (startedMembers.Any(s => !s.Succeeded))
        {
            return (finish(RestoreOutcome.Failed, "start", "some members did not start: " + string.Join("; ", startedMembers.Where(s => !s.Succeeded).Select(s => $"{s.Name}: {s.Error}")), plan, null), []);
        }

        return (null, restored);
    }

    /// <summary>The restore step of one member whose agent holds the verified snapshot.</summary>
    private static RestoreMemberInput RestoreInput(RestorePlan plan, RestoreRequest input, RestoreTargetMember member) => new(
        plan.RestoreId,
        plan.Backup.ArtifactName,
        plan.Backup.SnapshotSha256,
        plan.Backup.SnapshotSize,
        member,
        new MemberRestoreRequest
        {
            Name = member.Name,
            InitialCluster = plan.InitialCluster,
            InitialAdvertisePeerUrls = member.PeerUrl,
            Token = plan.Token,
            BumpRevision = input.BumpRevision,
            MarkCompacted = input.BumpRevision is > 0 ? true : null,

            // The same verified bytes reach every member: the first reads them for the live keys the verify phase expects.
            Inspect = member.Name == plan.Members[0].Member.Name ? null : false,
        }) { SnapshotDelivered = true };

    /// <summary>Checks the restored cluster from the outside: revision, live keys and health on every member.</summary>
    private static async Task<RestoreResult> VerifyAsync(
        TaskOrchestrationContext context,
        RestoreRequest input,
        RestorePlan plan,
        IReadOnlyList<MemberStepOutput> restored,
        Dictionary<string, MemberTrack> reports,
        Func<RestoreOutcome, string, string?, RestorePlan?, RestoreVerification?, RestoreResult> finish)
    {
        SetProgress(context, "verify", reports);
        var liveKeys = restored.Select(r => r.SnapshotLiveKeys).OfType<long>().Distinct().ToList();
        var expectedRevision = plan.Backup.Revision + (input.BumpRevision ?? 0);
        var verification = await context.CallActivityAsync<RestoreVerification>(VerifyClusterActivity.ActivityName, new VerifyInput(
            input.Cluster, input.Members, expectedRevision, liveKeys.Count == 1 ? liveKeys[0] : null)).ConfigureAwait(true);
        if (liveKeys.Count != 1)
        {
            var problem = liveKeys.Count == 0 ? "no agent reported the snapshot's live keys" : "agents counted different live keys in the same snapshot";
            verification = verification with { Succeeded = false, Problems = [.. verification.Problems, problem] };
        }

        SetProgress(context, verification.Succeeded ? "done" : "verify failed", reports);
        return verification.Succeeded
            ? finish(RestoreOutcome.Succeeded, "done", null, plan, verification)
            : finish(RestoreOutcome.Failed, "verify", "verification failed: " + string.Join("; ", verification.Problems), plan, verification);
    }

    private static async Task<RestoreResult> RollBackAsync(
        TaskOrchestrationContext context,
        RestoreRequest input,
        string restoreId,
        Dictionary<string, MemberTrack> reports,
        string phase,
        IReadOnlyList<MemberStepOutput> failedPhase,
        RestorePlan plan,
        Func<RestoreOutcome, string, string?, RestorePlan?, RestoreVerification?, RestoreResult> finish)
    {
        var cause = string.Join("; ", failedPhase.Where(s => !s.Succeeded).Select(s => $"{s.Name}: {s.Error}"));
        SetProgress(context, "rollback", reports);
        var rolledBack = await FanOutAsync(context, RollbackMemberActivity.ActivityName, input.Members.Select(m => new MemberStepInput(restoreId, m)), reports).ConfigureAwait(true);
        var rollbackFailures = rolledBack.Where(s => !s.Succeeded).ToList();
        return rollbackFailures.Count == 0
            ? finish(RestoreOutcome.RolledBack, phase, $"{phase} failed ({cause}); every member was rolled back to its original data dir", plan, null)
            : finish(RestoreOutcome.Failed, phase, $"{phase} failed ({cause}) and rollback failed on {string.Join(", ", rollbackFailures.Select(f => $"{f.Name}: {f.Error}"))}", plan, null);
    }

    private static async Task<IReadOnlyList<string>> StopLastAsync(TaskOrchestrationContext context, RestoreRequest input)
    {
        try
        {
            var order = await context.CallActivityAsync<StopOrderOutput>(StopOrderActivity.ActivityName, new StopOrderInput(input.Cluster, input.Members)).ConfigureAwait(true);
            return order.StopLast;
        }
        catch (TaskFailedException)
        {
            // Only an optimisation: without an answer every member stops at once.
            return [];
        }
    }

    private static async Task<IReadOnlyList<MemberStepOutput>> FanOutAsync<TInput>(TaskOrchestrationContext context, string activity, IEnumerable<TInput> inputs, Dictionary<string, MemberTrack> reports)
    {
        var results = await Task.WhenAll(inputs.Select(i => context.CallActivityAsync<MemberStepOutput>(activity, i))).ConfigureAwait(true);
        foreach (var result in results)
        {
            reports[result.Name].Add(result);
        }

        return results;
    }

    private static void SetProgress(TaskOrchestrationContext context, string phase, Dictionary<string, MemberTrack> reports) =>
        context.SetCustomStatus(new RestoreProgress(phase, reports.ToDictionary(r => r.Key, r => r.Value.State, StringComparer.Ordinal)));

    private static string Command(AgentPreflightSummary? preflight, RestoreTargetMember member, string initialCluster, string token, string restoreId, long? bump)
    {
        var tool = preflight?.RestoreTool ?? "etcdctl";
        var dataDir = preflight?.DataDir ?? "<dataDir>";
        var command = $"{tool} snapshot restore {dataDir}.restore-{restoreId}.snap --name {member.Name} --initial-cluster {initialCluster} "
            + $"--initial-cluster-token {token} --initial-advertise-peer-urls {member.PeerUrl} --data-dir {dataDir}.restore-{restoreId}";
        return bump is > 0 ? command + $" --bump-revision {bump} --mark-compacted" : command;
    }

    /// <summary>Accumulates one member's steps across phases.</summary>
    private sealed class MemberTrack(string name)
    {
        private readonly List<RestoreMemberStep> _steps = [];
        private string? _error;

        public string State { get; private set; } = "untouched";

        public void Add(MemberStepOutput output)
        {
            _steps.Add(output.Step);
            State = output.State;
            _error = output.Error ?? _error;
        }

        public RestoreMemberReport ToReport() => new() { Name = name, State = State, Steps = [.. _steps], Error = _error };
    }
}
