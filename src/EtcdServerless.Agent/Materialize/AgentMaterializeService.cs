using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Members;

namespace EtcdServerless.Agent.Materialize;

/// <summary>The snapshot a materialization produced, in the agent's scratch folder until the answer is sent.</summary>
internal sealed record MaterializedFile(string Path, long Size, string Sha256, ReplayResult Replay);

/// <summary>
/// The agent's side of a point-in-time materialization, for hosts that cannot run etcd (a Function App): reads the
/// plaintexts the caller decrypted (the key never comes here) from the request body into a 0700 scratch folder under
/// <c>&lt;dataDir&gt;.materialize</c>, checking each part's size and SHA-256 as it reads, runs the shared replay
/// (<see cref="DeltaReplayer"/>: etcd's own restore, a throwaway member on free loopback ports) and hands the
/// resulting snapshot to the caller's answer. The member's data dir is never read or written. One materialization
/// at a time; everything is removed on every exit path.
/// </summary>
internal sealed class AgentMaterializeService : IDisposable
{
    /// <summary>Prefix of the per-request scratch folders.</summary>
    public const string FolderPrefix = "etcd-backup-materialize-agent-";

    // etcd preallocates a 64 MiB WAL segment and needs room to write; the member's own disk must not fill up.
    private const long SpaceMargin = 256L << 20;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILogger _logger;
    private readonly MaterializeOptions _materialize;

    public AgentMaterializeService(AgentOptions options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _logger = loggers.CreateLogger<AgentMaterializeService>();
        WorkRoot = Path.GetFullPath(options.DataDir).TrimEnd(Path.DirectorySeparatorChar) + ".materialize";
        _materialize = new MaterializeOptions
        {
            Tools = new EtcdToolPaths { EtcdPath = options.EtcdPath, EtcdctlPath = options.EtcdctlPath, EtcdutlPath = options.EtcdutlPath },
            RestoreTimeout = TimeSpan.FromSeconds(options.CommandTimeoutSeconds),
            // The host runs a live member: its memory is not the materialization's to take.
            MemberInMemory = false,
        };
    }

    /// <summary>Where scratch folders go: a sibling of the data dir that the agent owns, never inside it.</summary>
    public string WorkRoot { get; }

    /// <summary>
    /// Reads the request, materializes and calls <paramref name="answer"/> with the snapshot (removed right after). A
    /// refused request or a failed materialization is an <see cref="AgentRequestException"/>: 400 malformed, 409 busy,
    /// 422 a part differs from its announcement or replay diverged (the part named), 507 no room, 500 etcd failed.
    /// </summary>
    public async Task RunAsync(Stream body, long? contentLength, Func<MaterializedFile, CancellationToken, Task> answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(answer);
        if (!await _gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw AgentRequestException.Conflict("a materialization is already running on this agent; try again when it has finished");
        }

        try
        {
            AgentMaterializeRequest request;
            int framed;
            try
            {
                (request, framed) = await AgentMaterializeProtocol.ReadAsync(body, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                throw AgentRequestException.BadRequest($"the materialize description is malformed: {ex.Message}");
            }

            var expected = request.BodyLength(framed);
            if (contentLength != expected)
            {
                throw AgentRequestException.BadRequest(
                    $"Content-Length must be the description plus every announced part, {expected} bytes; got {contentLength?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
            }

            DrillScratch.CreatePrivate(WorkRoot);
            var free = new DriveInfo(WorkRoot).AvailableFreeSpace;
            var needed = (3 * request.Base.Size) + SpaceMargin;
            if (free < needed)
            {
                throw new AgentRequestException(507, "Insufficient storage",
                    $"not enough free space in {WorkRoot}: {free} bytes free, {needed} needed (the base snapshot, its restored data dir, the result and a margin)");
            }

            await MaterializeAsync(request, body, answer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task MaterializeAsync(AgentMaterializeRequest request, Stream body, Func<MaterializedFile, CancellationToken, Task> answer, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var scratch = ThrowawayEtcd.CreateScratchFolder(WorkRoot, FolderPrefix);
        var outcome = "failed";
        try
        {
            var output = Path.Combine(scratch, "snapshot.db");
            ReplayResult replay;
            using var source = new RequestReplaySource(body, request);
            try
            {
                replay = await new DeltaReplayer(_materialize with { TempDirectory = scratch }, _logger)
                    .RunAsync(request.Target(), source, output, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                outcome = $"failed: {ex.Message}";
                throw new AgentRequestException(422, "Unprocessable content", ex.Message);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or Etcd.Errors.EtcdException or Etcd.Capture.SnapshotCaptureException)
            {
                outcome = $"failed: {ex.Message}";
                throw new AgentRequestException(500, "Materialization failed", $"materializing revision {request.TargetRevision} failed on the agent: {ex.Message}");
            }

            var sha = await HashAsync(output, cancellationToken).ConfigureAwait(false);
            await answer(new MaterializedFile(output, new FileInfo(output).Length, sha, replay), cancellationToken).ConfigureAwait(false);
            outcome = "succeeded";
        }
        finally
        {
            AgentMaterializeLog.Finished(_logger, request.Cluster, request.TargetRevision, request.Base.BackupId, request.Segments.Count, outcome, total.Elapsed.TotalMilliseconds);
            try
            {
                ThrowawayEtcd.DeleteScratchFolder(scratch);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                AgentMaterializeLog.ScratchNotRemoved(_logger, scratch, ex.Message);
            }
        }
    }

    private static async Task<string> HashAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
        }
    }
}
