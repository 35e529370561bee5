using System.Net;
using System.Text.Json;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace EtcdServerless.Functions;

/// <summary>
/// The restore trigger (called by incident tooling), orchestrator and activities. Like <see cref="BackupFunctions"/>,
/// each function only adapts its binding and calls the Core class the CLI runs in-process.
/// </summary>
internal sealed class RestoreFunctions(
    EtcdBackupOptions options,
    TimeProvider time,
    RestoreOrchestration orchestration,
    RestoreActivities activities)
{
    // ---- orchestrator and activities ----

    [Function(RestoreOrchestration.OrchestrationName)]
    public Task<RestoreResult> RunRestoreAsync([OrchestrationTrigger] TaskOrchestrationContext context) =>
        orchestration.RunAsync(new DurableOrchestrationContextAdapter(context), context.GetInput<RestoreRequest>()!);

    [Function(ResolveBackupActivity.ActivityName)]
    public Task<ResolveBackupOutput> ResolveAsync([ActivityTrigger] ResolveBackupInput input, FunctionContext context) =>
        activities.Resolve.RunAsync(input, context.CancellationToken);

    [Function(PreflightMemberActivity.ActivityName)]
    public Task<PreflightOutput> PreflightAsync([ActivityTrigger] PreflightInput input, FunctionContext context) =>
        activities.Preflight.RunAsync(input, context.CancellationToken);

    [Function(StopMemberActivity.ActivityName)]
    public Task<MemberStepOutput> StopAsync([ActivityTrigger] MemberStepInput input, FunctionContext context) =>
        activities.Stop.RunAsync(input, context.CancellationToken);

    [Function(RestoreMemberActivity.ActivityName)]
    public Task<MemberStepOutput> RestoreAsync([ActivityTrigger] RestoreMemberInput input, FunctionContext context) =>
        activities.Restore.RunAsync(input, context.CancellationToken);

    [Function(StartMemberActivity.ActivityName)]
    public Task<MemberStepOutput> StartAsync([ActivityTrigger] MemberStepInput input, FunctionContext context) =>
        activities.Start.RunAsync(input, context.CancellationToken);

    [Function(RollbackMemberActivity.ActivityName)]
    public Task<MemberStepOutput> RollbackAsync([ActivityTrigger] MemberStepInput input, FunctionContext context) =>
        activities.Rollback.RunAsync(input, context.CancellationToken);

    [Function(VerifyClusterActivity.ActivityName)]
    public Task<RestoreVerification> VerifyAsync([ActivityTrigger] VerifyInput input, FunctionContext context) =>
        activities.Verify.RunAsync(input, context.CancellationToken);

    // ---- HTTP API (same route and body as `etcd-backup serve`; see docs/http-api.md) ----

    [Function("StartRestore")]
    public async Task<HttpResponseData> StartRestoreHttpAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "clusters/{cluster}/restores")] HttpRequestData request,
        string cluster,
        [DurableClient] DurableTaskClient client,
        FunctionContext context)
    {
        if (!options.Clusters.TryGetValue(cluster, out var settings))
        {
            return await HttpProblems.WriteAsync(request, HttpStatusCode.NotFound, "cluster", $"Cluster '{cluster}' is not configured.").ConfigureAwait(false);
        }

        RestoreHttpBody? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<RestoreHttpBody>(request.Body, OrchestrationJson.Options, context.CancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return await HttpProblems.WriteAsync(request, HttpStatusCode.BadRequest, "body", $"The body is not valid JSON: {ex.Message}").ConfigureAwait(false);
        }

        var restore = new RestoreRequest
        {
            Cluster = cluster,
            Backup = body?.Backup ?? "latest",
            Members = [.. settings.Members.Select(m => new RestoreTargetMember { Name = m.Name, PeerUrl = m.PeerUrl, ClientUrl = m.ClientUrl, AgentUrl = m.AgentUrl })],
            Token = body?.NewClusterToken,
            DryRun = body?.DryRun ?? false,
            Confirm = body?.Confirm,
            Reason = body?.Reason,
        };
        try
        {
            restore.Validate();
        }
        catch (ArgumentException ex)
        {
            return await HttpProblems.WriteAsync(request, HttpStatusCode.BadRequest, ex.ParamName ?? "body", ex.Message).ConfigureAwait(false);
        }

        var instanceId = await client.ScheduleNewOrchestrationInstanceAsync(
            RestoreOrchestration.OrchestrationName,
            restore,
            new StartOrchestrationOptions($"restore-{cluster}-{time.GetUtcNow().UtcDateTime:yyyyMMddHHmmss}"),
            context.CancellationToken).ConfigureAwait(false);
        return await client.CreateCheckStatusResponseAsync(request, instanceId, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>The request body: which backup, a dry run or a confirmed real run, and why.</summary>
    private sealed record RestoreHttpBody(string? Backup, bool? DryRun, string? Confirm, string? Reason, string? NewClusterToken);
}

/// <summary>The restore activity instances, built once from <see cref="RestoreServices"/>.</summary>
internal sealed class RestoreActivities(RestoreServices services)
{
    public ResolveBackupActivity Resolve { get; } = new(services);

    public PreflightMemberActivity Preflight { get; } = new(services);

    public StopMemberActivity Stop { get; } = new(services);

    public RestoreMemberActivity Restore { get; } = new(services);

    public StartMemberActivity Start { get; } = new(services);

    public RollbackMemberActivity Rollback { get; } = new(services);

    public VerifyClusterActivity Verify { get; } = new(services);
}
