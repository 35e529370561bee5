using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using EtcdServerless.Workflows.Backup;
using EtcdServerless.Workflows.Deltas;
using EtcdServerless.Workflows.Drill;
using EtcdServerless.Workflows.Instances;
using EtcdServerless.Workflows.Restore;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EtcdServerless.Workflows.Hosting;

/// <summary>
/// Every orchestrator and activity of the product with its Durable name, in one list: the Durable Task registry
/// (<see cref="AddEtcdBackupWorkflows"/>), the in-process engine and the Function App's shims all read it.
/// </summary>
internal static class WorkflowRegistration
{
    /// <summary>Orchestrator name to type.</summary>
    public static IReadOnlyDictionary<string, Type> Orchestrators { get; } = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [BackupOrchestrator.OrchestratorName] = typeof(BackupOrchestrator),
        [RestoreOrchestrator.OrchestrationName] = typeof(RestoreOrchestrator),
        [GateOrchestrator.OrchestratorName] = typeof(GateOrchestrator),
        [DrillOrchestrator.OrchestratorName] = typeof(DrillOrchestrator),
        [DeltaOrchestrator.OrchestratorName] = typeof(DeltaOrchestrator),
    };

    private static readonly StepRegistration[] s_steps =
    [
        Step<CaptureSnapshotActivity, CaptureRequest, CaptureResult>(CaptureSnapshotActivity.ActivityName),
        Step<ConsistencyCheckActivity, ConsistencyCheckRequest, ConsistencyCheckResult>(ConsistencyCheckActivity.ActivityName),
        Step<WriteManifestActivity, WriteManifestRequest, WriteManifestResult>(WriteManifestActivity.ActivityName),
        Step<CaptureBundleActivity, CaptureBundleRequest, CaptureBundleResult>(CaptureBundleActivity.ActivityName),
        Step<ApplyRetentionActivity, RetentionRequest, RetentionOutcome>(ApplyRetentionActivity.ActivityName),
        Step<RecordBackupOutcomeActivity, BackupOutcome, BackupOutcomeRecorded>(RecordBackupOutcomeActivity.ActivityName),
        Step<ResolveBackupActivity, ResolveBackupInput, ResolveBackupOutput>(ResolveBackupActivity.ActivityName),
        Step<PreflightMemberActivity, PreflightInput, PreflightOutput>(PreflightMemberActivity.ActivityName),
        Step<StopMemberActivity, MemberStepInput, MemberStepOutput>(StopMemberActivity.ActivityName),
        Step<DistributeSnapshotActivity, DistributeSnapshotInput, DistributeSnapshotOutput>(DistributeSnapshotActivity.ActivityName),
        Step<RestoreMemberActivity, RestoreMemberInput, MemberStepOutput>(RestoreMemberActivity.ActivityName),
        Step<RestoreBundleActivity, RestoreBundleInput, MemberStepOutput>(RestoreBundleActivity.ActivityName),
        Step<StartMemberActivity, MemberStepInput, MemberStepOutput>(StartMemberActivity.ActivityName),
        Step<RollbackMemberActivity, MemberStepInput, MemberStepOutput>(RollbackMemberActivity.ActivityName),
        Step<VerifyClusterActivity, VerifyInput, RestoreVerification>(VerifyClusterActivity.ActivityName),
        Step<StopOrderActivity, StopOrderInput, StopOrderOutput>(StopOrderActivity.ActivityName),
        Step<DrillActivity, DrillRequest, DrillRunResult>(DrillActivity.ActivityName),
        Step<PointInTimeActivity, PointInTimeRequest, PointInTimeResult>(PointInTimeActivity.ActivityName),
        Step<DeltaCapture, DeltaCaptureRequest, DeltaCaptureResult>(DeltaCapture.ActivityName),
    ];

    /// <summary>Activity name to the <see cref="StepActivity{TInput, TOutput}"/> type that runs its Core step.</summary>
    public static IReadOnlyDictionary<string, Type> Activities { get; } = s_steps.ToDictionary(s => s.Name, s => s.ActivityType, StringComparer.Ordinal);

    /// <summary>
    /// Registers each activity's Core step as a keyed singleton under the activity name (where none is registered
    /// yet, so tests can put their own step first).
    /// </summary>
    public static IServiceCollection AddWorkflowSteps(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var step in s_steps)
        {
            step.Register(services);
        }

        return services;
    }

    /// <summary>Registers every orchestrator and activity (one call for every Durable Task host).</summary>
    public static DurableTaskRegistry AddEtcdBackupWorkflows(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        foreach (var (name, type) in Orchestrators)
        {
            registry.AddOrchestrator(name, type);
        }

        foreach (var (name, type) in Activities)
        {
            registry.AddActivity(name, type);
        }

        return registry;
    }

    private static StepRegistration Step<TStep, TInput, TOutput>(string name)
        where TStep : class, IActivity<TInput, TOutput> =>
        new(name, typeof(StepActivity<TInput, TOutput>), services => services.TryAddKeyedSingleton<IActivity<TInput, TOutput>, TStep>(name));

    private sealed record StepRegistration(string Name, Type ActivityType, Action<IServiceCollection> Register);
}
