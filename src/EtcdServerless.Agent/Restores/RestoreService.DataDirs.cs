using System.Globalization;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Restore;
using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Agent.Restores;

// The data dir work of the restore step: inspect the staged snapshot, run etcd's restore tool, swap the data dirs and prune kept copies.
internal sealed partial class RestoreService
{
    /// <summary>Reads the staged snapshot as etcd would: structure, revision and the live keys the restored cluster must hold.</summary>
    private Task<(SnapshotStatus Status, TimeSpan Took)?> InspectAsync(string staging) => Task.Run<(SnapshotStatus Status, TimeSpan Took)?>(async () =>
    {
        var started = time.GetTimestamp();

        // The trailer was checked in the receiving pass (or is checked by the tool after a restart): no SHA-256 here.
        var inspected = await SnapshotInspector.InspectAsync(staging, new SnapshotInspectionOptions { TotalKeySemantics = TotalKeySemantics.Etcd36, VerifyTrailer = false }).ConfigureAwait(false);
        return (inspected, time.GetElapsedTime(started));
    });

    /// <summary>
    /// Creates the staging file of an upload of <paramref name="expectedSize"/> bytes: in the memory folder when it fits
    /// (<see cref="AgentOptions.StageUploadsInMemory"/>), beside the data dir otherwise or when the memory file cannot be
    /// created. Leftovers of an earlier attempt are removed first; the file is created new (never through a link).
    /// </summary>
    private (string Path, FileStream File) OpenStaging(string restoreId, long? expectedSize)
    {
        var disk = _store.DiskStagingPath(restoreId);
        File.Delete(disk);
        if (_store.MemoryStagingPath(restoreId) is { } memory && expectedSize is > 0 && MemoryFolder.Fits(Path.GetDirectoryName(memory)!, expectedSize.Value))
        {
            try
            {
                File.Delete(memory);
                return (memory, SnapshotReceiver.CreateStagingFile(memory));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.MemoryStagingRefused(logger, restoreId, memory, ex.Message);
            }
        }

        return (disk, SnapshotReceiver.CreateStagingFile(disk));
    }

    private void DeleteRestoreLeftovers(string restoreId)
    {
        _store.DeleteStaging(restoreId);
        if (Directory.Exists(_store.RestoreDir(restoreId)))
        {
            Directory.Delete(_store.RestoreDir(restoreId), recursive: true);
        }
    }

    private async Task<string> RunRestoreToolAsync(string restoreId, MemberRestoreRequest request, EtcdTools.ToolInfo info, CancellationToken cancellationToken)
    {
        var tool = info.RestoreTool ?? throw new InvalidOperationException("no restore tool (etcdutl or etcdctl) is installed");
        var restoreDir = _store.RestoreDir(restoreId);
        if (Directory.Exists(restoreDir))
        {
            // A previous attempt of this same restore died half-way; the directory is ours and the tool needs it absent.
            Directory.Delete(restoreDir, recursive: true);
        }

        var args = new List<string>
        {
            "snapshot", "restore", _store.StagingPath(restoreId),
            "--name", request.Name,
            "--initial-cluster", request.InitialCluster,
            "--initial-cluster-token", request.Token,
            "--initial-advertise-peer-urls", request.InitialAdvertisePeerUrls,
            "--data-dir", restoreDir,
        };
        if (request.BumpRevision is > 0)
        {
            args.Add("--bump-revision");
            args.Add(request.BumpRevision.Value.ToString(CultureInfo.InvariantCulture));
            if (request.MarkCompacted ?? true)
            {
                args.Add("--mark-compacted");
            }
        }

        var staging = new FileInfo(_store.StagingPath(restoreId));
        if (_verifiedStaging.Remove(restoreId, out var verified) && staging.Exists && staging.Length == verified.Size && staging.LastWriteTimeUtc == verified.WrittenUtc)
        {
            // This process checked the trailer of this very file a moment ago in the same pass that hashed the upload.
            args.Add("--skip-hash-check");
        }

        var commandLine = $"{Path.GetFileName(tool)} {string.Join(' ', args)}";
        var result = await ExternalCommand.RunAsync(tool, args, _timeout, EtcdTools.Environment(), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"'{commandLine}' failed (exit {result.ExitCode}): {result.LastLine()}");
        }

        return commandLine;
    }

    private async Task<AgentRestoreStatus> SwapAsync(string restoreId, AgentRestoreStatus status, CancellationToken cancellationToken)
    {
        var before = _store.BeforeDir(restoreId);
        if (Directory.Exists(_store.DataDir))
        {
            if (Directory.Exists(before))
            {
                throw AgentRequestException.Conflict($"{before} already exists; refusing to overwrite a kept data dir");
            }

            PruneKeptDataDirs(restoreId, before);
            Move(restoreId, _store.DataDir, before);

            // The kept copy's time is when it was set aside: that orders the copies for pruning.
            Directory.SetLastWriteTimeUtc(before, time.GetUtcNow().UtcDateTime);
            status = status with { BeforeDir = before };
        }

        // Persist between the two moves: after a crash here, rollback knows where the original went.
        status = status with { Swapped = true };
        await _store.SaveAsync(status, cancellationToken).ConfigureAwait(false);
        Move(restoreId, _store.RestoreDir(restoreId), _store.DataDir);
        return status;
    }

    /// <summary>
    /// Every restore keeps the data dir it replaced; only the newest <c>Agent:KeepPreviousDataDirs</c> (default 1)
    /// are kept, the copy this restore is about to make included, so a rollback of this restore always works.
    /// </summary>
    private void PruneKeptDataDirs(string restoreId, string current)
    {
        var keepOlder = Math.Max(1, options.KeepPreviousDataDirs) - 1;
        var parent = Path.GetDirectoryName(_store.DataDir)!;
        var prefix = Path.GetFileName(_store.DataDir) + ".before-";
        var older = new DirectoryInfo(parent).EnumerateDirectories(prefix + "*")
            .Where(d => !string.Equals(d.FullName, current, StringComparison.Ordinal))
            .OrderByDescending(d => d.LastWriteTimeUtc)
            .Skip(keepOlder);
        foreach (var dir in older)
        {
            DeleteInBackground(restoreId, dir.FullName);
        }
    }

    /// <summary>
    /// Takes <paramref name="dir"/> out of the way at once (a rename to <c>&lt;dataDir&gt;.deleting-…</c>, which no listing
    /// shows) and deletes its files on the thread pool: a gigabyte data dir takes seconds to delete (more on a file system
    /// mounted with online discard), and no step needs to wait for that. Disposal waits for the deletions still running.
    /// </summary>
    private void DeleteInBackground(string restoreId, string dir)
    {
        var prefix = Path.GetFileName(_store.DataDir);
        var doomed = Path.Combine(Path.GetDirectoryName(dir)!, $"{prefix}.deleting-{Path.GetFileName(dir)[(prefix.Length + 1)..]}");
        Directory.Move(dir, doomed);
        StartDeletion(doomed, restoreId, () => Log.PrunedDataDir(logger, restoreId, dir));
    }

    /// <summary>Deletes what an earlier process set aside for deletion and did not finish (it stopped half-way).</summary>
    internal void DeleteLeftoverDeletions()
    {
        var parent = Path.GetDirectoryName(_store.DataDir)!;
        if (!Directory.Exists(parent))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(parent, Path.GetFileName(_store.DataDir) + ".deleting-*"))
        {
            StartDeletion(dir, "-", deleted: null);
        }
    }

    // Deletes a set-aside dir on the thread pool and tracks the task for disposal; a failure is logged, and the dir keeps
    // its .deleting- name for the next start.
    private void StartDeletion(string doomed, string restoreId, Action? deleted)
    {
        var deletion = Task.Run(() =>
        {
            try
            {
                Directory.Delete(doomed, recursive: true);
                deleted?.Invoke();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.DeleteFailed(logger, restoreId, doomed, ex.Message);
            }
        });
        lock (_deletions)
        {
            _deletions.RemoveAll(t => t.IsCompleted);
            _deletions.Add(deletion);
        }
    }

    private void Move(string restoreId, string from, string to)
    {
        Directory.Move(from, to);
        Log.Moved(logger, restoreId, from, to);
    }
}
