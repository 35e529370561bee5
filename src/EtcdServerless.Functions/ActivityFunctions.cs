using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Functions;

/// <summary>
/// The activity shims: each binds a Durable activity trigger to the Core step registered under the activity's name
/// (the same keyed steps the in-process engine and the tests resolve), passing the invocation's cancellation.
/// </summary>
internal sealed class ActivityFunctions(IServiceProvider services)
{
    [Function(CaptureSnapshotActivity.ActivityName)]
    public Task<CaptureResult> CaptureSnapshot([ActivityTrigger] CaptureRequest input, FunctionContext context) =>
        RunAsync<CaptureRequest, CaptureResult>(CaptureSnapshotActivity.ActivityName, input, context);

    [Function(ConsistencyCheckActivity.ActivityName)]
    public Task<ConsistencyCheckResult> ConsistencyCheck([ActivityTrigger] ConsistencyCheckRequest input, FunctionContext context) =>
        RunAsync<ConsistencyCheckRequest, ConsistencyCheckResult>(ConsistencyCheckActivity.ActivityName, input, context);

    [Function(WriteManifestActivity.ActivityName)]
    public Task<WriteManifestResult> WriteManifest([ActivityTrigger] WriteManifestRequest input, FunctionContext context) =>
        RunAsync<WriteManifestRequest, WriteManifestResult>(WriteManifestActivity.ActivityName, input, context);

    [Function(CaptureBundleActivity.ActivityName)]
    public Task<CaptureBundleResult> CaptureBundle([ActivityTrigger] CaptureBundleRequest input, FunctionContext context) =>
        RunAsync<CaptureBundleRequest, CaptureBundleResult>(CaptureBundleActivity.ActivityName, input, context);

    [Function(ApplyRetentionActivity.ActivityName)]
    public Task<RetentionOutcome> ApplyRetention([ActivityTrigger] RetentionRequest input, FunctionContext context) =>
        RunAsync<RetentionRequest, RetentionOutcome>(ApplyRetentionActivity.ActivityName, input, context);

    [Function(RecordBackupOutcomeActivity.ActivityName)]
    public Task<BackupOutcomeRecorded> RecordBackupOutcome([ActivityTrigger] BackupOutcome input, FunctionContext context) =>
        RunAsync<BackupOutcome, BackupOutcomeRecorded>(RecordBackupOutcomeActivity.ActivityName, input, context);

    [Function(ResolveBackupActivity.ActivityName)]
    public Task<ResolveBackupOutput> ResolveBackup([ActivityTrigger] ResolveBackupInput input, FunctionContext context) =>
        RunAsync<ResolveBackupInput, ResolveBackupOutput>(ResolveBackupActivity.ActivityName, input, context);

    [Function(PreflightMemberActivity.ActivityName)]
    public Task<PreflightOutput> PreflightMember([ActivityTrigger] PreflightInput input, FunctionContext context) =>
        RunAsync<PreflightInput, PreflightOutput>(PreflightMemberActivity.ActivityName, input, context);

    [Function(StopMemberActivity.ActivityName)]
    public Task<MemberStepOutput> StopMember([ActivityTrigger] MemberStepInput input, FunctionContext context) =>
        RunAsync<MemberStepInput, MemberStepOutput>(StopMemberActivity.ActivityName, input, context);

    [Function(DistributeSnapshotActivity.ActivityName)]
    public Task<DistributeSnapshotOutput> DistributeSnapshot([ActivityTrigger] DistributeSnapshotInput input, FunctionContext context) =>
        RunAsync<DistributeSnapshotInput, DistributeSnapshotOutput>(DistributeSnapshotActivity.ActivityName, input, context);

    [Function(RestoreMemberActivity.ActivityName)]
    public Task<MemberStepOutput> RestoreMember([ActivityTrigger] RestoreMemberInput input, FunctionContext context) =>
        RunAsync<RestoreMemberInput, MemberStepOutput>(RestoreMemberActivity.ActivityName, input, context);

    [Function(RestoreBundleActivity.ActivityName)]
    public Task<MemberStepOutput> RestoreBundle([ActivityTrigger] RestoreBundleInput input, FunctionContext context) =>
        RunAsync<RestoreBundleInput, MemberStepOutput>(RestoreBundleActivity.ActivityName, input, context);

    [Function(StartMemberActivity.ActivityName)]
    public Task<MemberStepOutput> StartMember([ActivityTrigger] MemberStepInput input, FunctionContext context) =>
        RunAsync<MemberStepInput, MemberStepOutput>(StartMemberActivity.ActivityName, input, context);

    [Function(RollbackMemberActivity.ActivityName)]
    public Task<MemberStepOutput> RollbackMember([ActivityTrigger] MemberStepInput input, FunctionContext context) =>
        RunAsync<MemberStepInput, MemberStepOutput>(RollbackMemberActivity.ActivityName, input, context);

    [Function(VerifyClusterActivity.ActivityName)]
    public Task<RestoreVerification> VerifyCluster([ActivityTrigger] VerifyInput input, FunctionContext context) =>
        RunAsync<VerifyInput, RestoreVerification>(VerifyClusterActivity.ActivityName, input, context);

    [Function(StopOrderActivity.ActivityName)]
    public Task<StopOrderOutput> StopOrder([ActivityTrigger] StopOrderInput input, FunctionContext context) =>
        RunAsync<StopOrderInput, StopOrderOutput>(StopOrderActivity.ActivityName, input, context);

    [Function(DrillActivity.ActivityName)]
    public Task<DrillRunResult> DrillBackup([ActivityTrigger] DrillRequest input, FunctionContext context) =>
        RunAsync<DrillRequest, DrillRunResult>(DrillActivity.ActivityName, input, context);

    // Materializing runs etcd, which the Function App has not: the step streams the decrypted inputs to the cluster's
    // Deltas:MaterializeAgentUrl (else Drill:AgentUrl) agent, with the agent client composed for restores and drills;
    // without one it answers a clear error naming those settings.
    [Function(PointInTimeActivity.ActivityName)]
    public Task<PointInTimeResult> PointInTime([ActivityTrigger] PointInTimeRequest input, FunctionContext context) =>
        RunAsync<PointInTimeRequest, PointInTimeResult>(PointInTimeActivity.ActivityName, input, context);

    [Function(DeltaCapture.ActivityName)]
    public Task<DeltaCaptureResult> CaptureDeltas([ActivityTrigger] DeltaCaptureRequest input, FunctionContext context) =>
        RunAsync<DeltaCaptureRequest, DeltaCaptureResult>(DeltaCapture.ActivityName, input, context);

    private Task<TOutput> RunAsync<TInput, TOutput>(string name, TInput input, FunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return services.GetRequiredKeyedService<IActivity<TInput, TOutput>>(name).RunAsync(input, context.CancellationToken);
    }
}
