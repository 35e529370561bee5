using EtcdServerless.Core.Members;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.Restores;

// The plumbing every public step shares: the lock and state file per restore id, the step record, hooks and request checks.
internal sealed partial class RestoreService
{
    private async Task EnsureStoppedAsync(CancellationToken cancellationToken)
    {
        if (await control.IsRunningAsync(cancellationToken).ConfigureAwait(false))
        {
            throw AgentRequestException.Conflict($"member {options.MemberName} is running: stop it first");
        }
    }

    private async Task RunHooksAsync(IEnumerable<string> hooks, CancellationToken cancellationToken)
    {
        foreach (var hook in hooks.Where(h => !string.IsNullOrWhiteSpace(h)))
        {
            Log.RunningHook(logger, hook);
            var result = await ExternalCommand.RunShellAsync(hook, _timeout, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"hook '{hook}' failed (exit {result.ExitCode}): {result.LastLine()}");
            }
        }
    }

    private async Task<AgentRestoreStatus> WithLockAsync(string restoreId, bool create, Func<AgentRestoreStatus, Task<AgentRestoreStatus>> body, CancellationToken cancellationToken)
    {
        if (!AgentProtocol.IsValidRestoreId(restoreId))
        {
            throw AgentRequestException.BadRequest("restoreId must be 1-64 characters of letters, digits, '-', '_' or '.'");
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var status = await _store.LoadAsync(restoreId, cancellationToken).ConfigureAwait(false);
            if (status is null)
            {
                if (!create)
                {
                    throw AgentRequestException.Conflict($"restore {restoreId} has not stopped this member yet: call stop first");
                }

                status = new AgentRestoreStatus
                {
                    RestoreId = restoreId,
                    MemberName = options.MemberName,
                    State = AgentRestoreState.Created,
                    DataDir = _store.DataDir,
                };
            }

            var result = await body(status).ConfigureAwait(false);
            return result with { MemberRunning = await control.IsRunningAsync(cancellationToken).ConfigureAwait(false) };
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<AgentRestoreStatus> RunStepAsync(AgentRestoreStatus status, string name, Func<Task<(AgentRestoreStatus Status, string Detail)>> step, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        try
        {
            var (next, detail) = await step().ConfigureAwait(false);
            var record = new AgentStep { Name = name, Outcome = "succeeded", Started = started, Finished = time.GetUtcNow(), Detail = detail };
            next = next with { Steps = [.. next.Steps, record], LastError = null };
            await _store.SaveAsync(next, cancellationToken).ConfigureAwait(false);
            Log.StepFinished(logger, status.RestoreId, name, record.Outcome, record.DurationMs);
            return next;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Reload: the step may have persisted progress (e.g. the swap) before failing.
            var current = await _store.LoadAsync(status.RestoreId, CancellationToken.None).ConfigureAwait(false) ?? status;
            var record = new AgentStep { Name = name, Outcome = "failed", Started = started, Finished = time.GetUtcNow(), Detail = ex.Message };
            await _store.SaveAsync(current with { Steps = [.. current.Steps, record], LastError = ex.Message }, CancellationToken.None).ConfigureAwait(false);
            Log.StepFinished(logger, status.RestoreId, name, record.Outcome, record.DurationMs);
            throw;
        }
    }

    private static void EnsureNotRolledBack(AgentRestoreStatus status)
    {
        if (status.State == AgentRestoreState.RolledBack)
        {
            throw AgentRequestException.Conflict($"restore {status.RestoreId} was rolled back; start a new restore with a new id");
        }
    }

    private static void Validate(MemberRestoreRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Name))
        {
            throw AgentRequestException.BadRequest("name is required");
        }

        if (string.IsNullOrWhiteSpace(request.Token))
        {
            throw AgentRequestException.BadRequest("token is required");
        }

        if (string.IsNullOrWhiteSpace(request.InitialAdvertisePeerUrls))
        {
            throw AgentRequestException.BadRequest("initialAdvertisePeerUrls is required");
        }

        var entries = (request.InitialCluster ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (!entries.Any(e => e.StartsWith(request.Name + "=", StringComparison.Ordinal)))
        {
            throw AgentRequestException.BadRequest($"initialCluster must list the member '{request.Name}' as name=peerUrl");
        }

        if (request.BumpRevision is < 0)
        {
            throw AgentRequestException.BadRequest("bumpRevision must not be negative");
        }
    }

    private static string? NormalizeHex(string? value, string header)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var hex = value.Trim().ToLowerInvariant();
        if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
        {
            throw AgentRequestException.BadRequest($"{header} must be 64 hex characters");
        }

        return hex;
    }

    private static long FreeBytes(string dataDir)
    {
        var dir = Path.GetFullPath(dataDir);
        while (!Directory.Exists(dir))
        {
            dir = Path.GetDirectoryName(dir) ?? "/";
        }

        return new DriveInfo(dir).AvailableFreeSpace;
    }
}
