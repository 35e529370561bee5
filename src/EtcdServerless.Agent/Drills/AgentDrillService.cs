using System.Diagnostics;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Drills;

namespace EtcdServerless.Agent.Drills;

/// <summary>
/// The agent's side of a restore drill: receives a plaintext snapshot (the caller decrypted it, as for a restore) into
/// a 0700 scratch folder under <c>&lt;dataDir&gt;.drills</c>, checks it against the figures the caller sent, and runs
/// the shared <see cref="SnapshotDrill"/> checks there (etcd's own restore, a throwaway member on free loopback ports).
/// The member's data dir is never read or written, and the member is never stopped: the drill is a bystander on its
/// host. One drill at a time; everything is removed on every exit path.
/// </summary>
internal sealed class AgentDrillService : IDisposable
{
    // etcd preallocates a 64 MiB WAL segment and needs room to write; the member's own disk must not fill up.
    private const long SpaceMargin = 256L << 20;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly DrillOptions _drill;

    public AgentDrillService(AgentOptions options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        _options = options;
        _logger = loggers.CreateLogger<AgentDrillService>();
        WorkRoot = Path.GetFullPath(options.DataDir).TrimEnd(Path.DirectorySeparatorChar) + ".drills";
        _drill = new DrillOptions
        {
            EtcdPath = options.EtcdPath,
            EtcdctlPath = options.EtcdctlPath,
            EtcdutlPath = options.EtcdutlPath,
            TempDirectory = WorkRoot,
            RestoreTimeout = TimeSpan.FromSeconds(options.CommandTimeoutSeconds),
        };
    }

    /// <summary>Where drill scratch folders go: a sibling of the data dir that the agent owns, never inside it.</summary>
    public string WorkRoot { get; }

    /// <summary>Receives and drills one snapshot; a refused request is an <see cref="AgentRequestException"/>, a failed check is in the answer.</summary>
    public async Task<AgentDrillResponse> RunAsync(DrillExpectation expected, Stream body, long? contentLength, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(body);
        if (contentLength != expected.Size)
        {
            throw AgentRequestException.BadRequest($"Content-Length must be the snapshot's size {expected.Size}, got {contentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        }

        if (!await _gate.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            throw AgentRequestException.Conflict("a drill is already running on this agent; try again when it has finished");
        }

        try
        {
            DrillScratch.CreatePrivate(WorkRoot);
            var free = new DriveInfo(WorkRoot).AvailableFreeSpace;
            var needed = (2 * expected.Size) + SpaceMargin;
            if (free < needed)
            {
                throw new AgentRequestException(507, "Insufficient storage",
                    $"not enough free space in {WorkRoot}: {free} bytes free, {needed} needed (the snapshot, its restored data dir and a margin for the member)");
            }

            var total = Stopwatch.StartNew();
            var scratch = DrillScratch.Create(WorkRoot);
            try
            {
                var checks = new DrillCheckList();
                var etcdVersion = await DrillAsync(expected, body, scratch, checks, cancellationToken).ConfigureAwait(false);
                var failed = checks.Checks.FirstOrDefault(c => !c.Passed);
                AgentDrillLog.Finished(_logger, expected.Cluster, expected.BackupId, failed is null ? "passed" : $"failed at check {failed.Name}", total.Elapsed.TotalMilliseconds);
                return new AgentDrillResponse { Checks = checks.Checks, EtcdVersion = etcdVersion, MemberName = _options.MemberName };
            }
            finally
            {
                DrillScratch.Delete(scratch, _logger);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string> DrillAsync(DrillExpectation expected, Stream body, string scratch, DrillCheckList checks, CancellationToken cancellationToken)
    {
        var path = Path.Combine(scratch, "snapshot.db");
        var received = await SnapshotReceiver.ReceiveAsync(body, SnapshotReceiver.CreateStagingFile(path), cancellationToken).ConfigureAwait(false);
        var problem = received.Size != expected.Size ? $"received {received.Size} bytes, the manifest records {expected.Size}"
            : received.Sha256 != expected.Sha256 ? "sha256 of what arrived differs from the manifest's"
            : !received.TrailerValid ? "etcd's sha256 trailer does not match the database"
            : null;
        checks.Add("receive", problem is null, expected.Sha256, received.Sha256, problem ?? $"{received.Size} bytes into a 0700 scratch folder of the agent of member {_options.MemberName}");
        if (problem is not null)
        {
            return "";
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using (handle)
        {
            return await new SnapshotDrill(_drill, _logger).RunAsync(expected, path, handle, scratch, checks, () =>
            {
                handle.Dispose();
                File.Delete(path);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _gate.Dispose();
}
