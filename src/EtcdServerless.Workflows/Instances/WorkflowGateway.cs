using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Workflows.Backup;
using EtcdServerless.Workflows.Restore;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace EtcdServerless.Workflows.Instances;

/// <summary>
/// The one instance policy of both hosts (Function App and <c>serve</c>/CLI), over any <see cref="DurableTaskClient"/>:
/// every run gets its own id; one backup and one restore per cluster at a time; a request while one runs is
/// joined to it only when it asks for the same thing (a dry run is never joined to a real restore), otherwise
/// refused with the running id.
/// </summary>
/// <remarks>
/// The lock is a gate orchestration under a fixed id per kind and cluster, created with dedupe on running
/// statuses, so the backend admits one even when several hosts race; within one process a per-gate semaphore
/// also serializes check-then-start, because the in-memory test backend must never be asked to start an id that
/// is running.
/// </remarks>
internal sealed partial class WorkflowGateway(DurableTaskClient client, TimeProvider time)
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> s_gateLocks = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_gateSettle = TimeSpan.FromSeconds(30);
    private static readonly OrchestrationRuntimeStatus[] s_running =
        [OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Suspended];

    /// <summary>The client the gateway starts and reads instances with.</summary>
    public DurableTaskClient Client { get; } = client;

    /// <summary>Starts a backup of <paramref name="cluster"/>, or joins the one running.</summary>
    public Task<StartOutcome> StartBackupAsync(string cluster, BackupTrigger trigger, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        var request = new BackupRequest(cluster, trigger, time.GetUtcNow());

        // Every backup asks for the same thing: the cluster's current state. So any running one is joined.
        return StartAsync(WorkflowKind.Backup, cluster, BackupOrchestrator.OrchestratorName, request, "backup", $"a backup of cluster '{cluster}'", cancellationToken);
    }

    /// <summary>Starts a delta run of <paramref name="cluster"/>, or joins the one running (runs never overlap per cluster).</summary>
    public Task<StartOutcome> StartDeltasAsync(string cluster, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        return StartAsync(WorkflowKind.Deltas, cluster, Deltas.DeltaOrchestrator.OrchestratorName, new Core.Deltas.DeltaCaptureRequest(cluster), "deltas",
            $"a delta capture of cluster '{cluster}'", cancellationToken);
    }

    /// <summary>Starts a restore (or dry run), joins the identical one running, or refuses while another runs.</summary>
    public Task<StartOutcome> StartRestoreAsync(RestoreRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var what = new
        {
            request.Backup,
            request.DryRun,
            request.Token,
            request.BumpRevision,
            request.ForceVersion,
            request.RestoreBundle,
            request.FromFile,
            request.SkipHashCheck,
            request.ToRevision,
            request.ToTime,
            Members = request.Members.Select(m => new[] { m.Name, m.PeerUrl, m.ClientUrl, m.AgentUrl }),
        };
        var fingerprint = Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(what, OrchestrationJson.Options)));
        var summary = $"a {(request.DryRun ? "dry-run " : "")}restore of cluster '{request.Cluster}' from backup '{request.Backup}'";
        return StartAsync(WorkflowKind.Restore, request.Cluster, RestoreOrchestrator.OrchestrationName, request, fingerprint, summary, cancellationToken);
    }

    /// <summary>
    /// The instance with <paramref name="instanceId"/>; a run whose gate has started but whose own instance the
    /// backend has not created yet reads as Pending, so a status URL never gives 404 in that moment.
    /// </summary>
    public async Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var metadata = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (metadata is not null || !TryParseRunId(instanceId, out var kind, out var cluster))
        {
            return metadata;
        }

        var gate = await Client.GetInstanceAsync(GateId(kind, cluster), getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        return gate is not null && IsRunning(gate) && ReadGate(gate) is { } input && input.RunId == instanceId
            ? new OrchestrationMetadata(input.Orchestrator, instanceId)
            {
                RuntimeStatus = OrchestrationRuntimeStatus.Pending,
                CreatedAt = gate.CreatedAt,
                LastUpdatedAt = gate.LastUpdatedAt,
                SerializedInput = input.Input.GetRawText(),
            }
            : null;
    }

    /// <summary>Waits until the run completes (its gate may still be creating it).</summary>
    public async Task<OrchestrationMetadata> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            var metadata = await GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"no instance '{instanceId}'");
            if (!IsRunning(metadata))
            {
                return metadata;
            }

            if (metadata.RuntimeStatus != OrchestrationRuntimeStatus.Pending || await Client.GetInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false) is not null)
            {
                return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 500));
        }
    }

    /// <summary>True while the instance is pending, running or suspended.</summary>
    public static bool IsRunning(OrchestrationMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return s_running.Contains(metadata.RuntimeStatus);
    }

    private async Task<StartOutcome> StartAsync(
        WorkflowKind kind, string cluster, string orchestrator, object input, string fingerprint, string summary, CancellationToken cancellationToken)
    {
        var gateId = GateId(kind, cluster);
        var gateLock = s_gateLocks.GetOrAdd(gateId, _ => new SemaphoreSlim(1, 1));
        await gateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await RunningGateAsync(gateId, cancellationToken).ConfigureAwait(false) is { } running)
            {
                return Join(running, fingerprint);
            }

            var runId = NewRunId(kind, cluster);
            var gate = new GateInput(kind.ToString().ToLowerInvariant(), cluster, runId, orchestrator,
                JsonSerializer.SerializeToElement(input, input.GetType(), OrchestrationJson.Options), fingerprint, summary);
            try
            {
                await Client.ScheduleNewOrchestrationInstanceAsync(
                    GateOrchestrator.OrchestratorName, gate, new StartOrchestrationOptions(gateId).WithDedupeStatuses(s_running), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Another host won the race for the gate: join or refuse as if we had seen it first.
                if (await RunningGateAsync(gateId, cancellationToken).ConfigureAwait(false) is { } winner)
                {
                    return Join(winner, fingerprint);
                }

                throw;
            }

            return new StartOutcome(runId, Deduplicated: false, Conflict: null);
        }
        finally
        {
            gateLock.Release();
        }
    }

    private async Task<GateInput?> RunningGateAsync(string gateId, CancellationToken cancellationToken)
    {
        var gate = await Client.GetInstanceAsync(gateId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
        if (gate is null || !IsRunning(gate) || ReadGate(gate) is not { } input)
        {
            return null;
        }

        var run = await Client.GetInstanceAsync(input.RunId, cancellationToken).ConfigureAwait(false);
        if (run is null || IsRunning(run))
        {
            return input;
        }

        // The run has ended and its gate ends in its next step: wait for that rather than refuse or join a finished run.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(s_gateSettle);
        try
        {
            await Client.WaitForInstanceCompletionAsync(gateId, bounded.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return input;
        }
    }

    private static StartOutcome Join(GateInput running, string fingerprint) =>
        string.Equals(running.Fingerprint, fingerprint, StringComparison.Ordinal)
            ? new StartOutcome(running.RunId, Deduplicated: true, Conflict: null)
            : new StartOutcome(running.RunId, Deduplicated: false, Conflict: $"{running.Summary} is running (instance {running.RunId}); try again when it has finished");

    private static GateInput? ReadGate(OrchestrationMetadata gate) =>
        string.IsNullOrEmpty(gate.SerializedInput) ? null : JsonSerializer.Deserialize<GateInput>(gate.SerializedInput, OrchestrationJson.Options);

    /// <summary>The fixed id of the gate that locks <paramref name="cluster"/> for <paramref name="kind"/>.</summary>
    internal static string GateId(WorkflowKind kind, string cluster) => $"gate-{kind.ToString().ToLowerInvariant()}-{cluster}";

    private string NewRunId(WorkflowKind kind, string cluster) =>
        $"{kind.ToString().ToLowerInvariant()}-{cluster}-{time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmssfff'Z'}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    internal static bool TryParseRunId(string instanceId, out WorkflowKind kind, out string cluster)
    {
        var match = RunIdPattern().Match(instanceId);
        kind = match.Success ? Enum.Parse<WorkflowKind>(match.Groups["kind"].Value, ignoreCase: true) : WorkflowKind.Backup;
        cluster = match.Success ? match.Groups["cluster"].Value : "";
        return match.Success;
    }

    [GeneratedRegex("^(?<kind>backup|restore|drill|deltas)-(?<cluster>.+)-[0-9]{8}T[0-9]{9}Z-[0-9a-f]{8}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}

/// <summary>What the gateway locks per cluster.</summary>
internal enum WorkflowKind
{
    Backup,
    Restore,
    Drill,
    Deltas,
}

/// <summary>The result of a start request.</summary>
/// <param name="InstanceId">The run's id (the new one, or the running one that was joined or that refused).</param>
/// <param name="Deduplicated">True when the request was joined to a running identical run.</param>
/// <param name="Conflict">Set when another, different run holds the cluster: why the request was refused.</param>
internal sealed record StartOutcome(string InstanceId, bool Deduplicated, string? Conflict);
