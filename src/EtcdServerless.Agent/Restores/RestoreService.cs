using System.Globalization;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Control;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Restore;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Agent.Restores;

/// <summary>
/// The member's part of a restore. Every operation is idempotent per restore id: its state lives in a JSON file
/// next to the data dir, and a repeated call returns the recorded outcome instead of doing the work twice. The old
/// data dir is moved aside, never deleted by the restore that replaced it; the next restore removes copies beyond
/// <see cref="AgentOptions.KeepPreviousDataDirs"/>. One operation runs at a time.
/// </summary>
internal sealed partial class RestoreService(
    AgentOptions options,
    IMemberControl control,
    EtcdTools tools,
    TimeProvider time,
    ILogger<RestoreService> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly RestoreStateStore _store = new(options.DataDir, options.StageUploadsInMemory ? options.MemoryDirectory ?? MemoryFolder.DefaultPath : null);
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(options.CommandTimeoutSeconds);

    // Deletions of set-aside data dirs still running on the thread pool (DeleteInBackground); under its own lock.
    private readonly List<Task> _deletions = [];

    // Staging files this process received and verified (trailer and SHA-256), with their size and time: the restore
    // tool may skip its own hash pass over exactly those. After a restart the tool checks again (the file was not
    // fsynced, see SnapshotReceiver). Read and written under _gate only.
    private readonly Dictionary<string, (long Size, DateTime WrittenUtc)> _verifiedStaging = new(StringComparer.Ordinal);

    /// <summary>Tools, versions, space and member state, for a snapshot of <paramref name="snapshotSize"/> bytes.</summary>
    public async Task<AgentPreflight> PreflightAsync(long snapshotSize, CancellationToken cancellationToken = default)
    {
        var info = await tools.GetAsync(cancellationToken).ConfigureAwait(false);
        var free = FreeBytes(_store.DataDir);
        var problems = new List<string>();
        if (info.RestoreTool is null)
        {
            problems.Add($"no restore tool: neither '{options.EtcdutlPath}' nor '{options.EtcdctlPath}' was found");
        }

        if (info.Etcd is null && control is SupervisedMemberControl)
        {
            problems.Add($"etcd binary '{options.EtcdPath}' was not found");
        }

        var enough = free >= 2 * Math.Max(0, snapshotSize);
        if (!enough)
        {
            problems.Add($"not enough free space near {_store.DataDir}: {free} bytes free, {2 * snapshotSize} needed (2x the snapshot)");
        }

        return new AgentPreflight
        {
            MemberName = options.MemberName,
            ControlMode = control.Mode,
            EtcdVersion = info.EtcdVersion,
            EtcdPresent = info.Etcd is not null,
            EtcdctlPresent = info.Etcdctl is not null,
            EtcdutlPresent = info.Etcdutl is not null,
            RestoreTool = info.RestoreTool is null ? null : Path.GetFileName(info.RestoreTool),
            SupportsBumpRevision = info.SupportsBumpRevision,
            DataDir = _store.DataDir,
            DataDirExists = Directory.Exists(_store.DataDir),
            FreeBytes = free,
            SnapshotSize = snapshotSize,
            EnoughSpace = enough,
            MemberRunning = await control.IsRunningAsync(cancellationToken).ConfigureAwait(false),
            HostId = string.IsNullOrWhiteSpace(options.HostId) ? HostIdentity.BootId() : options.HostId,
            Problems = problems,
        };
    }

    /// <summary>The recorded state of a restore; 404 when the agent never saw it.</summary>
    public async Task<AgentRestoreStatus> GetAsync(string restoreId, CancellationToken cancellationToken = default)
    {
        var status = await _store.LoadAsync(restoreId, cancellationToken).ConfigureAwait(false)
            ?? throw AgentRequestException.NotFound($"restore {restoreId} is unknown to this agent");
        return status with { MemberRunning = await control.IsRunningAsync(cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>Stops the member (pre-stop hooks first, on the first call only).</summary>
    public Task<AgentRestoreStatus> StopAsync(string restoreId, CancellationToken cancellationToken = default) =>
        WithLockAsync(restoreId, create: true, async status =>
        {
            EnsureNotRolledBack(status);
            return await RunStepAsync(status, "stop", async () =>
            {
                if (status.State == AgentRestoreState.Created)
                {
                    await RunHooksAsync(options.PreStopHooks, cancellationToken).ConfigureAwait(false);
                }

                var wasRunning = await control.IsRunningAsync(cancellationToken).ConfigureAwait(false);
                await control.StopAsync(cancellationToken).ConfigureAwait(false);
                var next = status.State < AgentRestoreState.Stopped ? AgentRestoreState.Stopped : status.State;
                return (status with { State = next }, wasRunning ? $"stopped ({control.Mode})" : "already stopped");
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// Receives the snapshot into a staging file and checks it: SHA-256 of the body against the expected value(s) and
    /// etcd's own trailer. A mismatch deletes the staged file (400); a different snapshot after the restore ran is 409.
    /// </summary>
    public Task<AgentRestoreStatus> ReceiveSnapshotAsync(string restoreId, Stream body, string? expectedSha256, string? expectedDbSha256, long? expectedSize = null, CancellationToken cancellationToken = default)
    {
        expectedSha256 = NormalizeHex(expectedSha256, AgentProtocol.SnapshotSha256Header);
        expectedDbSha256 = NormalizeHex(expectedDbSha256, AgentProtocol.SnapshotDbSha256Header);
        if (expectedSha256 is null && expectedDbSha256 is null)
        {
            throw AgentRequestException.BadRequest($"the {AgentProtocol.SnapshotSha256Header} header (SHA-256 of the snapshot, hex) is required");
        }

        return WithLockAsync(restoreId, create: false, async status =>
        {
            EnsureNotRolledBack(status);
            if (status.SnapshotSha256 is not null && status.State >= AgentRestoreState.SnapshotReceived
                && (expectedSha256 is null || expectedSha256 == status.SnapshotSha256))
            {
                return status;
            }

            if (status.State >= AgentRestoreState.Restored || status.Swapped)
            {
                throw AgentRequestException.Conflict($"restore {restoreId} already restored snapshot {status.SnapshotSha256}; a different snapshot needs a new restore id");
            }

            await EnsureStoppedAsync(cancellationToken).ConfigureAwait(false);
            return await RunStepAsync(status, "upload", async () =>
            {
                var (staging, stagingFile) = OpenStaging(restoreId, expectedSize);
                SnapshotReceiver.Received received;
                var receiving = time.GetTimestamp();
                try
                {
                    received = await SnapshotReceiver.ReceiveAsync(body, stagingFile, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    File.Delete(staging);
                    throw;
                }

                string? problem = null;
                if (expectedSha256 is not null && received.Sha256 != expectedSha256)
                {
                    problem = $"snapshot SHA-256 mismatch: expected {expectedSha256}, received {received.Sha256} ({received.Size} bytes)";
                }
                else if (expectedDbSha256 is not null && received.DbSha256 != expectedDbSha256)
                {
                    problem = $"snapshot database SHA-256 mismatch: expected {expectedDbSha256}, received {received.DbSha256}";
                }
                else if (!received.TrailerValid)
                {
                    problem = $"the upload is not an intact etcd snapshot: its last 32 bytes are not the SHA-256 of the rest ({received.Size} bytes)";
                }

                if (problem is not null)
                {
                    File.Delete(staging);
                    throw AgentRequestException.BadRequest(problem);
                }

                // The inspection (structure, revision, live keys) reads the whole file once more: it runs beside etcd's
                // restore tool in the restore step, when that step asks for it, and that step waits for it before the swap.
                var receivedIn = time.GetElapsedTime(receiving);
                var file = new FileInfo(staging);
                _verifiedStaging[restoreId] = (file.Length, file.LastWriteTimeUtc);
                return (status with
                {
                    State = AgentRestoreState.SnapshotReceived,
                    SnapshotSha256 = received.Sha256,
                    SnapshotSize = received.Size,
                },
                    string.Create(CultureInfo.InvariantCulture, $"{received.Size} bytes, sha256 {received.Sha256}; received and hashed in {receivedIn.TotalSeconds:F2} s, staged {(staging == _store.MemoryStagingPath(restoreId) ? "in memory" : "on disk")}"));
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>
    /// Restores the staged snapshot into <c>&lt;dataDir&gt;.restore-&lt;id&gt;</c> with etcd's own tool, moves the old data dir
    /// to <c>&lt;dataDir&gt;.before-&lt;id&gt;</c> and swaps the new one in.
    /// </summary>
    public Task<AgentRestoreStatus> RestoreAsync(string restoreId, MemberRestoreRequest request, CancellationToken cancellationToken = default)
    {
        Validate(request);

        // The name becomes etcd's --name and the member's identity in the cluster: only this agent's own member.
        if (!string.Equals(request.Name, options.MemberName, StringComparison.Ordinal))
        {
            var shown = request.Name.Length > 64 ? request.Name[..64] + "..." : request.Name;
            throw AgentRequestException.BadRequest($"name '{shown}' is not this agent's member '{options.MemberName}'; refusing to restore another member's identity");
        }

        return WithLockAsync(restoreId, create: false, async status =>
        {
            EnsureNotRolledBack(status);
            if (status.State >= AgentRestoreState.Restored)
            {
                return status.Request == request
                    ? status
                    : throw AgentRequestException.Conflict($"restore {restoreId} already ran with different settings");
            }

            if (status.State < AgentRestoreState.SnapshotReceived || !File.Exists(_store.StagingPath(restoreId)))
            {
                throw AgentRequestException.Conflict($"restore {restoreId} has no snapshot yet: upload it first");
            }

            var info = await tools.GetAsync(cancellationToken).ConfigureAwait(false);
            if (request.BumpRevision is > 0 && !info.SupportsBumpRevision)
            {
                throw AgentRequestException.BadRequest($"{Path.GetFileName(info.RestoreTool ?? "etcdctl")} here has no --bump-revision (etcdctl 3.4.27+ / etcdutl 3.5.10+ do); restore without bumpRevision");
            }

            await EnsureStoppedAsync(cancellationToken).ConfigureAwait(false);
            return await RunStepAsync(status, "restore", async () =>
            {
                // Every member gets the same verified bytes, so a restore asks one agent to read them (Inspect); it runs beside the tool.
                var inspection = request.Inspect == false ? Task.FromResult<(SnapshotStatus Status, TimeSpan Took)?>(null) : InspectAsync(_store.StagingPath(restoreId));
                var restoring = time.GetTimestamp();
                var tool = RunRestoreToolAsync(restoreId, request, info, cancellationToken);
                await Task.WhenAll(inspection, tool).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                var restoredIn = time.GetElapsedTime(restoring);
                if (inspection.IsFaulted && inspection.Exception.InnerException is InvalidDataException or EndOfStreamException)
                {
                    DeleteRestoreLeftovers(restoreId);
                    throw AgentRequestException.BadRequest($"the upload is not a readable etcd snapshot: {inspection.Exception.InnerException.Message}");
                }

                var inspected = await inspection.ConfigureAwait(false);
                var command = await tool.ConfigureAwait(false);
                status = status with { Request = request, Command = command, SnapshotRevision = inspected?.Status.Revision, SnapshotLiveKeys = inspected?.Status.TotalKey };
                status = await SwapAsync(restoreId, status, cancellationToken).ConfigureAwait(false);
                _store.DeleteStaging(restoreId);
                if (options.Faults.FailRestoreAfterSwap)
                {
                    await _store.SaveAsync(status, cancellationToken).ConfigureAwait(false);
                    throw new IOException("injected fault: the restore step failed after the swap (Agent:Faults:FailRestoreAfterSwap)");
                }

                return (status with { State = AgentRestoreState.Restored },
                    inspected is { } read
                        ? string.Create(CultureInfo.InvariantCulture, $"{command}; revision {read.Status.Revision}, {read.Status.TotalKey} live keys; inspected in {read.Took.TotalSeconds:F2} s beside the tool, both done in {restoredIn.TotalSeconds:F2} s")
                        : string.Create(CultureInfo.InvariantCulture, $"{command}; not inspected here (another member reads the same bytes); done in {restoredIn.TotalSeconds:F2} s"));
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <summary>Starts the member (post-start hooks after). No-op when it runs.</summary>
    public Task<AgentRestoreStatus> StartAsync(string restoreId, CancellationToken cancellationToken = default) =>
        WithLockAsync(restoreId, create: false, async status =>
        {
            if (status.State == AgentRestoreState.Started && await control.IsRunningAsync(cancellationToken).ConfigureAwait(false))
            {
                return status;
            }

            return await RunStepAsync(status, "start", async () =>
            {
                await control.StartAsync(cancellationToken).ConfigureAwait(false);
                await RunHooksAsync(options.PostStartHooks, cancellationToken).ConfigureAwait(false);
                var next = status.State == AgentRestoreState.Restored ? AgentRestoreState.Started : status.State;
                var detail = $"started ({control.Mode})";
                if (next == AgentRestoreState.Started && options.KeepPreviousDataDirs == 0 && status.BeforeDir is { } before && Directory.Exists(before))
                {
                    // Keep none (Juju's skip-backup): the copy lived only as long as this restore's rollback could need it.
                    DeleteInBackground(restoreId, before);
                    detail += $"; deleted {before} (Agent:KeepPreviousDataDirs 0)";
                }

                return (status with { State = next }, detail);
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// Undoes the restore on this member: stop, move the restored data dir to <c>.rolledback-&lt;id&gt;</c>, put the original
    /// back, remove staging leftovers, start the member again when it has a data dir.
    /// </summary>
    public Task<AgentRestoreStatus> RollbackAsync(string restoreId, CancellationToken cancellationToken = default) =>
        WithLockAsync(restoreId, create: true, async status =>
        {
            if (status.State == AgentRestoreState.Created)
            {
                // This restore never touched the member: nothing to undo, but fence the id so a late stop cannot act on it.
                return await RunStepAsync(status, "rollback", () => Task.FromResult((status with { State = AgentRestoreState.RolledBack }, "nothing to undo: the member was never stopped by this restore")), cancellationToken).ConfigureAwait(false);
            }

            if (status.State == AgentRestoreState.RolledBack)
            {
                if (Directory.Exists(_store.DataDir))
                {
                    await control.StartAsync(cancellationToken).ConfigureAwait(false);
                }

                return status;
            }

            return await RunStepAsync(status, "rollback", async () =>
            {
                await control.StopAsync(cancellationToken).ConfigureAwait(false);
                var notes = new List<string>();
                if (status.Swapped)
                {
                    if (Directory.Exists(_store.DataDir))
                    {
                        Move(restoreId, _store.DataDir, _store.RolledBackDir(restoreId));
                        notes.Add($"restored data dir kept at {_store.RolledBackDir(restoreId)}");
                    }

                    if (Directory.Exists(_store.BeforeDir(restoreId)))
                    {
                        Move(restoreId, _store.BeforeDir(restoreId), _store.DataDir);
                        notes.Add("original data dir back in place");
                    }

                    status = status with { Swapped = false };
                    await _store.SaveAsync(status, cancellationToken).ConfigureAwait(false);
                }

                if (Directory.Exists(_store.RestoreDir(restoreId)))
                {
                    Directory.Delete(_store.RestoreDir(restoreId), recursive: true);
                }

                // A leftover that cannot be deleted must not keep the member down: the data is back, so say so and go on.
                try
                {
                    _store.DeleteStaging(restoreId);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    Log.StagingLeftoverKept(logger, restoreId, _store.DiskStagingPath(restoreId), ex.Message);
                    notes.Add($"staging leftover {_store.DiskStagingPath(restoreId)} not deleted ({ex.Message})");
                }

                _verifiedStaging.Remove(restoreId);
                if (Directory.Exists(_store.DataDir))
                {
                    await control.StartAsync(cancellationToken).ConfigureAwait(false);
                    await RunHooksAsync(options.PostStartHooks, cancellationToken).ConfigureAwait(false);
                    notes.Add("member started");
                }
                else
                {
                    notes.Add("no previous data dir: member left stopped");
                }

                return (status with { State = AgentRestoreState.RolledBack }, string.Join("; ", notes));
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Runs <paramref name="body"/> while no restore step runs (data dir housekeeping).</summary>
    public async Task<T> ExclusiveAsync<T>(Func<T> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return body();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <paramref name="body"/> while no restore step runs (bundle writes).</summary>
    public async Task<T> ExclusiveAsync<T>(Func<Task<T>> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await body().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        Task[] running;
        lock (_deletions)
        {
            running = [.. _deletions];
        }

        // A data dir set aside for deletion is finished before the process goes (a leftover is deleted at the next start).
        Task.WaitAll(running, TimeSpan.FromSeconds(60));
        _gate.Dispose();
    }
}
