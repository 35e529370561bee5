using System.Text.Json;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Orchestration;

namespace EtcdServerless.Core.Restore.Activities;

/// <summary>Asks one agent whether its member can be restored (reachable, tools, version, space, data dir).</summary>
internal sealed class PreflightMemberActivity(RestoreServices services) : IActivity<PreflightInput, PreflightOutput>
{
    public const string ActivityName = "RestorePreflight";

    public string Name => ActivityName;

    public async Task<PreflightOutput> RunAsync(PreflightInput input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            var p = await services.Agents.PreflightAsync(input.Member.AgentUrl, input.SnapshotSize, cancellationToken).ConfigureAwait(false);
            var problems = new List<string>(p.Problems.Select(x => $"{input.Member.Name}: {x}"));
            if (!string.Equals(p.MemberName, input.Member.Name, StringComparison.Ordinal))
            {
                problems.Add($"{input.Member.Name}: the agent at {input.Member.AgentUrl} serves member '{p.MemberName}'");
            }

            var summary = new AgentPreflightSummary(p.EtcdVersion, p.RestoreTool, p.SupportsBumpRevision, p.DataDir, p.DataDirExists, p.FreeBytes, p.EnoughSpace, p.MemberRunning, p.ControlMode, p.HostId);
            return new PreflightOutput(input.Member.Name, summary, problems);
        }
        catch (AgentCallException ex)
        {
            return new PreflightOutput(input.Member.Name, null, [$"{input.Member.Name}: {ex.Message}"]);
        }
    }
}

/// <summary>Common shape of the per-member steps: time the call, turn agent refusals into a result record.</summary>
internal abstract class MemberStepActivity<TInput>(RestoreServices services, string stepName) : IActivity<TInput, MemberStepOutput>
{
    public abstract string Name { get; }

    protected RestoreServices Services { get; } = services;

    public async Task<MemberStepOutput> RunAsync(TInput input, CancellationToken cancellationToken = default)
    {
        var (restoreId, member) = Target(input);
        var started = Services.Time.GetUtcNow();
        try
        {
            var status = await RunStepAsync(input, cancellationToken).ConfigureAwait(false);
            var step = new RestoreMemberStep(stepName, true, started, Services.Time.GetUtcNow(), status.Steps.Count > 0 ? status.Steps[^1].Detail : null);
            return new MemberStepOutput { Name = member.Name, Step = step, State = StateName(status.State), SnapshotLiveKeys = status.SnapshotLiveKeys };
        }
        catch (Exception ex) when (ex is AgentCallException or EnvelopeException or IOException or Storage.BackupStoreException)
        {
            var finished = Services.Time.GetUtcNow();
            var state = "unknown";
            try
            {
                state = StateName((await Services.Agents.GetAsync(member.AgentUrl, restoreId, cancellationToken).ConfigureAwait(false)).State);
            }
            catch (AgentCallException ask) when (ask.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                state = "untouched";
            }
            catch (AgentCallException)
            {
                // The agent is gone: its state stays unknown.
            }

            return new MemberStepOutput
            {
                Name = member.Name,
                Step = new RestoreMemberStep(stepName, false, started, finished, ex.Message),
                State = state,
                Error = ex.Message,
            };
        }
    }

    protected abstract (string RestoreId, RestoreTargetMember Member) Target(TInput input);

    protected abstract Task<AgentRestoreStatus> RunStepAsync(TInput input, CancellationToken cancellationToken);

    private static string StateName(AgentRestoreState state) => JsonNamingPolicy.CamelCase.ConvertName(state.ToString());
}

/// <summary>Stops one member through its agent.</summary>
internal sealed class StopMemberActivity(RestoreServices services) : MemberStepActivity<MemberStepInput>(services, "stop")
{
    public const string ActivityName = "RestoreStopMember";

    public override string Name => ActivityName;

    protected override (string, RestoreTargetMember) Target(MemberStepInput input) => (input.RestoreId, input.Member);

    protected override Task<AgentRestoreStatus> RunStepAsync(MemberStepInput input, CancellationToken cancellationToken) =>
        Services.Agents.StopAsync(input.Member.AgentUrl, input.RestoreId, cancellationToken);
}

/// <summary>Starts one member through its agent.</summary>
internal sealed class StartMemberActivity(RestoreServices services) : MemberStepActivity<MemberStepInput>(services, "start")
{
    public const string ActivityName = "RestoreStartMember";

    public override string Name => ActivityName;

    protected override (string, RestoreTargetMember) Target(MemberStepInput input) => (input.RestoreId, input.Member);

    protected override Task<AgentRestoreStatus> RunStepAsync(MemberStepInput input, CancellationToken cancellationToken) =>
        Services.Agents.StartAsync(input.Member.AgentUrl, input.RestoreId, cancellationToken);
}

/// <summary>Rolls one member back: original data dir in place, member started.</summary>
internal sealed class RollbackMemberActivity(RestoreServices services) : MemberStepActivity<MemberStepInput>(services, "rollback")
{
    public const string ActivityName = "RestoreRollbackMember";

    public override string Name => ActivityName;

    protected override (string, RestoreTargetMember) Target(MemberStepInput input) => (input.RestoreId, input.Member);

    protected override Task<AgentRestoreStatus> RunStepAsync(MemberStepInput input, CancellationToken cancellationToken) =>
        Services.Agents.RollbackAsync(input.Member.AgentUrl, input.RestoreId, cancellationToken);
}

/// <summary>
/// Streams the decrypted snapshot from the store to one agent (store read, envelope authentication chunk by chunk,
/// HTTP upload: nothing buffered whole), then has the agent restore and swap its data dir.
/// </summary>
internal sealed class RestoreMemberActivity(RestoreServices services) : MemberStepActivity<RestoreMemberInput>(services, "restore")
{
    public const string ActivityName = "RestoreRestoreMember";

    public override string Name => ActivityName;

    protected override (string, RestoreTargetMember) Target(RestoreMemberInput input) => (input.RestoreId, input.Member);

    protected override async Task<AgentRestoreStatus> RunStepAsync(RestoreMemberInput input, CancellationToken cancellationToken)
    {
        var agentUrl = input.Member.AgentUrl;
        if (input.SnapshotDelivered)
        {
            return await Services.Agents.RestoreAsync(agentUrl, input.RestoreId, input.Request, cancellationToken).ConfigureAwait(false);
        }

        var artifact = await Services.Store.OpenReadAsync(input.ArtifactName, 0, null, cancellationToken).ConfigureAwait(false);
        await using (artifact.ConfigureAwait(false))
        {
            var plain = await EnvelopeReadStream.OpenAsync(artifact, Services.Keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
            await using (plain.ConfigureAwait(false))
            {
                // The agent checks the SHA-256 of what arrives against the manifest's and etcd's own trailer; a tampered or
                // truncated artifact fails here (envelope authentication) before the agent would accept it.
                await Services.Agents.UploadSnapshotAsync(agentUrl, input.RestoreId, plain, input.SnapshotSha256, input.SnapshotSize, cancellationToken).ConfigureAwait(false);
            }
        }

        return await Services.Agents.RestoreAsync(agentUrl, input.RestoreId, input.Request, cancellationToken).ConfigureAwait(false);
    }
}
