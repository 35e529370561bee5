using System.Net;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Functions;

/// <summary>
/// The backup triggers, orchestrator and activities: each function only adapts its binding and calls the Core
/// class that does the work (the same classes <c>etcd-backup</c> runs in-process).
/// </summary>
internal sealed class BackupFunctions(
    EtcdBackupOptions options,
    IBackupStore store,
    TimeProvider time,
    BackupOrchestration orchestration,
    CaptureSnapshotActivity capture,
    ConsistencyCheckActivity consistency,
    WriteManifestActivity manifest,
    ApplyRetentionActivity retention,
    ILogger<BackupFunctions> logger)
{
    private static readonly OrchestrationRuntimeStatus[] s_running =
        [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended];

    // ---- orchestrator and activities ----

    [Function(BackupOrchestration.OrchestratorName)]
    public Task<BackupResult> RunBackupAsync([OrchestrationTrigger] TaskOrchestrationContext context) =>
        orchestration.RunAsync(new DurableOrchestrationContextAdapter(context), context.GetInput<BackupRequest>()!);

    [Function(CaptureSnapshotActivity.ActivityName)]
    public Task<CaptureResult> CaptureAsync([ActivityTrigger] CaptureRequest input, FunctionContext context) =>
        capture.RunAsync(input, context.CancellationToken);

    [Function(ConsistencyCheckActivity.ActivityName)]
    public Task<ConsistencyCheckResult> CheckConsistencyAsync([ActivityTrigger] ConsistencyCheckRequest input, FunctionContext context) =>
        consistency.RunAsync(input, context.CancellationToken);

    [Function(WriteManifestActivity.ActivityName)]
    public Task<WriteManifestResult> WriteManifestAsync([ActivityTrigger] WriteManifestRequest input, FunctionContext context) =>
        manifest.RunAsync(input, context.CancellationToken);

    [Function(ApplyRetentionActivity.ActivityName)]
    public Task<RetentionOutcome> ApplyRetentionAsync([ActivityTrigger] RetentionRequest input, FunctionContext context) =>
        retention.RunAsync(input, context.CancellationToken);

    // ---- schedule ----

    /// <summary>
    /// Every minute: start a backup for each cluster whose NCRONTAB schedule has an occurrence in this minute. The
    /// instance id names cluster and minute, so a re-fired timer dedups; a cluster whose previous backup still
    /// runs is skipped (one backup at a time per cluster).
    /// </summary>
    [Function("BackupScheduler")]
    public async Task ScheduleAsync([TimerTrigger("0 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient client, FunctionContext context)
    {
        var now = time.GetUtcNow();
        var slot = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        foreach (var (cluster, settings) in options.Clusters)
        {
            var schedule = string.IsNullOrWhiteSpace(settings.Schedule) ? null : EtcdBackupOptionsValidator.TryParseSchedule(settings.Schedule, out _);
            var occurrence = schedule?.GetNextOccurrence(slot.UtcDateTime.AddTicks(-1));
            if (occurrence is null || occurrence.Value >= slot.UtcDateTime.AddMinutes(1))
            {
                continue;
            }

            await StartAsync(client, cluster, BackupTrigger.Scheduled, BackupOrchestration.ScheduledInstanceIdFor(cluster, slot), context.CancellationToken)
                .ConfigureAwait(false);
        }
    }

    // ---- HTTP API (same routes as `etcd-backup serve`) ----

    [Function("StartBackup")]
    public async Task<HttpResponseData> StartBackupHttpAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "clusters/{cluster}/backups")] HttpRequestData request,
        string cluster,
        [DurableClient] DurableTaskClient client,
        FunctionContext context)
    {
        if (!options.Clusters.ContainsKey(cluster))
        {
            return await HttpProblems.WriteAsync(request, HttpStatusCode.NotFound, "cluster", $"Cluster '{cluster}' is not configured.").ConfigureAwait(false);
        }

        var instanceId = await StartAsync(client, cluster, BackupTrigger.OnDemand,
            $"backup-{cluster}-{time.GetUtcNow().UtcDateTime:yyyyMMddHHmmss}-manual", context.CancellationToken).ConfigureAwait(false);
        return await client.CreateCheckStatusResponseAsync(request, instanceId, context.CancellationToken).ConfigureAwait(false);
    }

    [Function("ListBackups")]
    public async Task<HttpResponseData> ListBackupsHttpAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "clusters/{cluster}/backups")] HttpRequestData request,
        string cluster,
        FunctionContext context)
    {
        if (!options.Clusters.ContainsKey(cluster))
        {
            return await HttpProblems.WriteAsync(request, HttpStatusCode.NotFound, "cluster", $"Cluster '{cluster}' is not configured.").ConfigureAwait(false);
        }

        var backups = await new BackupCatalog(store, time).ListAsync(cluster, context.CancellationToken).ConfigureAwait(false);
        var response = request.CreateResponse(HttpStatusCode.OK);
        await response.WriteAsJsonAsync(backups, context.CancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>Starts a backup unless one of the cluster is running; returns the instance that runs it.</summary>
    private async Task<string> StartAsync(DurableTaskClient client, string cluster, BackupTrigger trigger, string instanceId, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery { InstanceIdPrefix = $"backup-{cluster}-", Statuses = s_running, PageSize = 1 };
        await foreach (var running in client.GetAllInstancesAsync(query).ConfigureAwait(false))
        {
            FunctionsLog.BackupAlreadyRunning(logger, cluster, running.InstanceId);
            return running.InstanceId;
        }

        try
        {
            return await client.ScheduleNewOrchestrationInstanceAsync(
                BackupOrchestration.OrchestratorName,
                new BackupRequest(cluster, trigger, time.GetUtcNow()),
                new StartOrchestrationOptions(instanceId),
                cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("already exists", StringComparison.OrdinalIgnoreCase))
        {
            // The same slot was started by a concurrent or repeated trigger (the gRPC AlreadyExists the isolated
            // client surfaces): that instance is the backup.
            return instanceId;
        }
    }
}
