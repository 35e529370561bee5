using System.Diagnostics;
using System.Globalization;
using EtcdServerless.Core.Members;
using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// The replay core of a materialization, wherever it runs (here, or on an agent): the base snapshot is restored with
/// etcd's own tool into a throwaway loopback member, the segments are replayed on it in revision order with one
/// transaction per original revision (so every revision, create and mod revision and version comes out identical,
/// checked on each transaction), replay stops at the target, and the member's snapshot is saved (0600). Replay starts
/// strictly after the base's exact revision and skips what overlapping segments repeat; a missing revision stops it
/// with the segment named. The inputs come from an <see cref="IReplaySource"/>, so the store path and the agent path
/// share every check. Everything in the scratch folder is removed on every path.
/// </summary>
internal sealed class DeltaReplayer(MaterializeOptions? options = null, ILogger? logger = null)
{
    private const string MemberName = "materialize";

    private readonly MaterializeOptions _options = options ?? new MaterializeOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Replays <paramref name="source"/> up to the target and writes the snapshot to <paramref name="outputPath"/> (replaced when it exists).</summary>
    /// <exception cref="InvalidDataException">An input is damaged or missing (named), or replay diverged.</exception>
    public async Task<ReplayResult> RunAsync(ReplayTarget target, IReplaySource source, string outputPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        outputPath = Path.GetFullPath(outputPath);
        var started = Stopwatch.StartNew();
        var scratch = ThrowawayEtcd.CreateScratchFolder(_options.TempDirectory, DeltaMaterializer.FolderPrefix);
        string? inMemory = null;
        try
        {
            var (clientPort, peerPort) = ThrowawayEtcd.FreePorts();
            var estimate = ReplayMemberPlacement.EstimateBytes(target.BaseSize, target.ReplayBytes);
            if (ReplayMemberPlacement.Choose(_options, estimate) is { } memory)
            {
                inMemory = ThrowawayEtcd.CreateScratchFolder(memory, DeltaMaterializer.FolderPrefix + "member-");
                _logger.MaterializeMemberInMemory(target.Cluster, inMemory, estimate >> 20);
            }

            var dataDir = Path.Combine(inMemory ?? scratch, "member-data");
            var peerUrl = $"http://127.0.0.1:{peerPort}";
            var basePath = Path.Combine(scratch, "base.db");
            await source.WriteBaseAsync(basePath, cancellationToken).ConfigureAwait(false);
            var (error, _) = await ThrowawayEtcd.RestoreAsync(_options.Tools, basePath, dataDir, MemberName, peerUrl, _options.RestoreTimeout, cancellationToken).ConfigureAwait(false);
            if (error is not null)
            {
                throw new InvalidOperationException($"restoring full backup {target.BaseBackupId} failed: {error}");
            }

            // The plaintext is in the data dir now; the copy would only double the disk the materialization holds.
            File.Delete(basePath);

            // A replayed revision can be a transaction of many keys (a range delete): lift the per-transaction limits.
            var config = ThrowawayEtcd.MemberConfig(MemberName, dataDir, clientPort, peerUrl, Path.Combine(scratch, "etcd.log"), target.BaseSize,
                ["--max-txn-ops", "1000000", "--max-request-bytes", (128 * 1024 * 1024).ToString(CultureInfo.InvariantCulture)]);
            var member = new EtcdProcess(config, _options.Tools.EtcdPath, _logger) { StopGrace = TimeSpan.FromSeconds(10) };
            await using (member.ConfigureAwait(false))
            {
                await member.StartAsync(cancellationToken).ConfigureAwait(false);
                await member.WaitHealthyAsync(_options.StartTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
                var clientOptions = new EtcdClientOptions { Endpoint = new Uri(config.ClientUrl), DialTimeout = TimeSpan.FromSeconds(2), CallTimeout = TimeSpan.FromSeconds(60) };
                long revisions, events;
                using (var client = new EtcdClient(clientOptions, _logger))
                {
                    (revisions, events) = await ReplayAsync(target, source, client, cancellationToken).ConfigureAwait(false);
                }

                await source.CompleteAsync(cancellationToken).ConfigureAwait(false);
                await new SnapshotCapture(clientOptions, logger: _logger).CaptureAsync(SnapshotSourcePlan.FromEndpoints([clientOptions.Endpoint]), outputPath, cancellationToken: cancellationToken).ConfigureAwait(false);
                await member.StopAsync(cancellationToken).ConfigureAwait(false);
                var status = await SnapshotInspector.InspectAsync(outputPath, new SnapshotInspectionOptions { Trailer = SnapshotTrailerMode.Present }, cancellationToken).ConfigureAwait(false);
                if (status.Revision != target.TargetRevision)
                {
                    File.Delete(outputPath);
                    throw new InvalidDataException($"the materialized snapshot is at revision {status.Revision}, not {target.TargetRevision}");
                }

                _logger.Materialized(target.Cluster, target.TargetRevision, target.BaseBackupId, source.Segments.Count, revisions);
                return new ReplayResult(status.Revision, revisions, events, new FileInfo(outputPath).Length, started.Elapsed);
            }
        }
        finally
        {
            foreach (var folder in inMemory is null ? [scratch] : new[] { inMemory, scratch })
            {
                try
                {
                    ThrowawayEtcd.DeleteScratchFolder(folder);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    _logger.MaterializeScratchNotRemoved(folder, ex.Message);
                }
            }
        }
    }

    private async Task<(long Revisions, long Events)> ReplayAsync(ReplayTarget target, IReplaySource source, EtcdClient client, CancellationToken cancellationToken)
    {
        var applied = (await client.StatusAsync(cancellationToken).ConfigureAwait(false)).Header.Revision;
        if (applied != target.BaseRevision)
        {
            throw new InvalidDataException($"full backup {target.BaseBackupId} restored at revision {applied}, but its manifest records revision {target.BaseRevision}");
        }

        var leases = new HashSet<long>();
        long revisions = 0, events = 0;
        for (var index = 0; index < source.Segments.Count; index++)
        {
            var segment = source.Segments[index];
            if (applied >= target.TargetRevision)
            {
                break;
            }

            if (segment.ToRevision <= applied)
            {
                continue;
            }

            await foreach (var revision in source.ReadAsync(index, cancellationToken).ConfigureAwait(false))
            {
                if (revision.Revision <= applied)
                {
                    // Overlap with the snapshot or the previous segment: already applied.
                    continue;
                }

                if (revision.Revision > target.TargetRevision)
                {
                    break;
                }

                if (revision.Revision != applied + 1)
                {
                    throw new InvalidDataException($"segment {segment.Label} lacks revision {applied + 1} (its next revision is {revision.Revision})");
                }

                await EnsureLeasesAsync(client, revision, leases, cancellationToken).ConfigureAwait(false);
                var got = await client.ApplyRevisionAsync(revision.Events, cancellationToken).ConfigureAwait(false);
                if (got != revision.Revision)
                {
                    throw new InvalidDataException(
                        $"replaying revision {revision.Revision} of segment {segment.SegmentId} produced revision {got}: the throwaway member changed on its own (a lease of the full backup expired during replay?)");
                }

                applied = got;
                revisions++;
                events += revision.Events.Count;
                if (applied == target.TargetRevision)
                {
                    break;
                }
            }
        }

        if (applied != target.TargetRevision)
        {
            throw new InvalidDataException($"replay ended at revision {applied}, before the target {target.TargetRevision}: the segments of the chain ({target.Chain}) do not reach it");
        }

        return (revisions, events);
    }

    private async Task EnsureLeasesAsync(EtcdClient client, EtcdRevisionEvents revision, HashSet<long> leases, CancellationToken cancellationToken)
    {
        foreach (var e in revision.Events)
        {
            var lease = e.Kv.Lease;
            if (e.IsDelete || lease == 0 || !leases.Add(lease))
            {
                continue;
            }

            try
            {
                // Lease grants are not revisions, so recreating one keeps the revision sequence intact.
                await client.LeaseGrantAsync((long)_options.RecreatedLeaseTtl.TotalSeconds, lease, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException ex) when (ex.ServerMessage.Contains("lease already exists", StringComparison.OrdinalIgnoreCase))
            {
                // Held by the full backup: it keeps its own TTL.
            }
        }
    }
}
