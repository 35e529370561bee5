using System.Reflection;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// One delta capture run: reads the last captured revision R from the store (the newest segment's last revision,
/// or, with no segments, the newest full backup's exact snapshot revision as its bbolt inspection recorded it, never
/// the earlier revision in the backup id), reads the cluster's current revision C from a response header, watches
/// the whole key space from R+1 to C and writes those revisions as one sealed, write-once segment
/// <c>rR+1-rC</c> (envelope encryption, artifact first, manifest last). When R+1 was compacted away the chain
/// continues from a newer full backup if there is one, else the run reports the gap and asks for a full backup.
/// </summary>
internal sealed class DeltaCapture(BackupEnvironment environment) : IActivity<DeltaCaptureRequest, DeltaCaptureResult>
{
    public const string ActivityName = "Deltas_Capture";

    private static readonly string s_toolVersion =
        typeof(DeltaCapture).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<DeltaCapture>();

    /// <summary>How long the watch may stay silent before the member is considered stuck.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How the history is read: several watches over consecutive windows of revisions (see <see cref="WindowedHistoryReader"/>).</summary>
    public WindowedHistoryOptions History { get; init; } = new();

    public string Name => ActivityName;

    public async Task<DeltaCaptureResult> RunAsync(DeltaCaptureRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var cluster = environment.FindCluster(input.Cluster);
        if (cluster is null)
        {
            return Failed(input.Cluster, $"Cluster '{input.Cluster}' is not configured.");
        }

        var deltas = new DeltaCatalog(environment.Store, environment.Keys);
        var segments = await deltas.ListAsync(input.Cluster, cancellationToken).ConfigureAwait(false);
        var newestFull = (await new BackupCatalog(environment.Store, environment.Time).ListAsync(input.Cluster, cancellationToken).ConfigureAwait(false))
            .MaxBy(m => m.Snapshot.Revision);
        var last = segments.Count == 0 ? null : segments.MaxBy(s => s.ToRevision);
        if (last is null && newestFull is null)
        {
            return new DeltaCaptureResult
            {
                Cluster = input.Cluster, Succeeded = false, NeedsFullBackup = true,
                Message = "no full backup to start the delta chain from",
            };
        }

        var ranking = await SourceCandidates.RankAsync(environment, cluster, cancellationToken).ConfigureAwait(false);
        if (ranking.Candidates.Count == 0)
        {
            return Failed(input.Cluster, $"No member of cluster '{input.Cluster}' can be watched: {string.Join("; ", ranking.Skipped)}");
        }

        var source = ranking.Candidates[0];
        using var client = environment.Clients.Create(cluster, source.Endpoint, environment.LoggerFactory.CreateLogger<EtcdClient>());
        KeyEncryptionKey kek;
        try
        {
            kek = await environment.Keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            return Failed(input.Cluster, $"No key-encryption key: {ex.Message}");
        }

        using (kek)
        {
            try
            {
                // Read once, at the start: the segment ends here even while writes go on.
                var captured = environment.Time.GetUtcNow();
                var current = (await client.StatusAsync(cancellationToken).ConfigureAwait(false)).Header.Revision;
                return await CaptureChainAsync(input.Cluster, client, source.Endpoint, kek, last, newestFull, current, captured, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdException ex)
            {
                return Failed(input.Cluster, $"Watching {source.Endpoint} failed: {ex.Message}");
            }
            catch (Exception ex) when (ex is BackupStoreException or InvalidOperationException)
            {
                return Failed(input.Cluster, $"Writing the delta segment failed: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Captures the next segment of the chain (after the last segment, or from the newest full backup). When etcd has
    /// compacted the chain's next revision but a newer full backup covers the lost ones, the chain starts over from it.
    /// </summary>
    private async Task<DeltaCaptureResult> CaptureChainAsync(
        string cluster, EtcdClient client, Uri source, KeyEncryptionKey kek, DeltaManifest? last, BackupManifest? newestFull, long current, DateTimeOffset captured, CancellationToken cancellationToken)
    {
        var start = last is not null
            ? new ChainStart(last.ToRevision, last.SegmentId, null)
            : new ChainStart(newestFull!.Snapshot.Revision, null, newestFull.BackupId);
        try
        {
            var result = await CaptureAsync(cluster, client, source, kek, start, current, captured, cancellationToken).ConfigureAwait(false);
            return await PruneAsync(result, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdCompactedException ex) when (last is not null && newestFull is not null && newestFull.Snapshot.Revision > last.ToRevision)
        {
            // The chain cannot continue, but a newer full backup covers the lost revisions: start over from it.
            _logger.DeltaChainRestarted(cluster, newestFull.BackupId, newestFull.Snapshot.Revision, last.SegmentId);
            try
            {
                return await CaptureAsync(cluster, client, source, kek,
                    new ChainStart(newestFull.Snapshot.Revision, null, newestFull.BackupId), current, captured, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdCompactedException again)
            {
                return Gap(cluster, again, ex);
            }
        }
        catch (EtcdCompactedException ex)
        {
            return Gap(cluster, ex, null);
        }
    }

    private async Task<DeltaCaptureResult> CaptureAsync(
        string cluster, EtcdClient client, Uri source, KeyEncryptionKey kek, ChainStart start, long current, DateTimeOffset captured, CancellationToken cancellationToken)
    {
        var from = start.Revision + 1;
        if (from > current)
        {
            _logger.DeltaUpToDate(cluster, start.Revision);
            return new DeltaCaptureResult { Cluster = cluster, Succeeded = true, CoveredRevision = start.Revision, Message = $"up to date at revision {start.Revision}" };
        }

        var history = new WindowedHistoryReader(client, History).ReadAsync(from, current, IdleTimeout, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (history.ConfigureAwait(false))
        {
            // The first item proves the history is there (compaction is reported before any event) before a write is staged.
            var more = await history.MoveNextAsync().ConfigureAwait(false);
            var segmentId = DeltaNaming.SegmentId(from, current);
            var artifactName = DeltaNaming.ArtifactName(cluster, segmentId);
            var retainUntil = environment.Time.GetUtcNow().AddDays(environment.Options.Store.ImmutabilityDays);
            var writer = await environment.Store.OpenWriteAsync(artifactName, new BackupObjectWriteOptions
            {
                RetainUntil = retainUntil,
                RequireImmutability = environment.Options.Store.RequireImmutability,
                Tags = BackupCatalog.ArtifactTags(cluster, current, verified: true),
            }, cancellationToken).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                var envelope = await EnvelopeWriteStream.CreateAsync(writer.Content, kek, environment.Pipeline.Envelope,
                    DeltaManifestAuthenticator.Identity(cluster, segmentId), leaveOpen: true, cancellationToken).ConfigureAwait(false);
                await using (envelope.ConfigureAwait(false))
                {
                    using var records = new DeltaSegmentWriter(envelope);
                    while (more)
                    {
                        await records.WriteRevisionAsync(history.Current, cancellationToken).ConfigureAwait(false);
                        more = await history.MoveNextAsync().ConfigureAwait(false);
                    }

                    if (records.FirstRevision != from || records.LastRevision != current)
                    {
                        // Every revision is a write, so the watch must deliver from..current; anything else is not committed.
                        throw new InvalidOperationException($"the watch delivered revisions {records.FirstRevision}-{records.LastRevision}, expected {from}-{current}");
                    }

                    var sha = await records.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    await envelope.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    var committed = await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                    var manifest = DeltaManifestAuthenticator.Sign(new DeltaManifest
                    {
                        Cluster = cluster,
                        SegmentId = segmentId,
                        FromRevision = from,
                        ToRevision = current,
                        Previous = start.PreviousSegment,
                        BaseBackupId = start.BaseBackupId,
                        Captured = captured,
                        Source = source.ToString(),
                        Events = records.Events,
                        Revisions = records.Revisions,
                        Plaintext = new DeltaPlaintextInfo { Sha256 = sha, Size = records.Size },
                        Artifact = ArtifactInfo.Sealed(artifactName, envelope, committed, retainUntil),
                        Key = KeyReference.To(environment.Keys, kek),
                        ToolVersion = s_toolVersion,
                    }, kek);
                    await new DeltaCatalog(environment.Store, environment.Keys).WriteManifestAsync(manifest, cancellationToken).ConfigureAwait(false);
                    _logger.DeltaCaptured(cluster, segmentId, source.ToString(), records.Events, records.Revisions, committed.Length);
                    return new DeltaCaptureResult
                    {
                        Cluster = cluster,
                        Succeeded = true,
                        Segment = manifest,
                        CoveredRevision = current,
                        Message = $"segment {segmentId}: {records.Events} events in {records.Revisions} revisions",
                    };
                }
            }
        }
    }

    private async Task<DeltaCaptureResult> PruneAsync(DeltaCaptureResult result, CancellationToken cancellationToken)
    {
        // Retention of segments follows the full backups' own retention; a store fault here does not undo the capture.
        try
        {
            var pruned = await DeltaRetention.PruneAsync(environment.Store, environment.Keys, result.Cluster, cancellationToken).ConfigureAwait(false);
            return result with { PrunedSegments = pruned.Deleted };
        }
        catch (BackupStoreException ex)
        {
            return result with { Message = $"{result.Message}; segment retention failed: {ex.Message}" };
        }
    }

    private DeltaCaptureResult Gap(string cluster, EtcdCompactedException ex, EtcdCompactedException? first)
    {
        var reason = first is null
            ? $"revision {ex.RequestedRevision} was compacted (the cluster keeps history from revision {ex.CompactRevision}) before it was captured"
            : $"revision {first.RequestedRevision} and, after the newest full backup, revision {ex.RequestedRevision} were compacted (history kept from {ex.CompactRevision})";
        _logger.DeltaGap(cluster, reason);
        return new DeltaCaptureResult { Cluster = cluster, Succeeded = false, GapDetected = true, NeedsFullBackup = true, Message = reason };
    }

    private static DeltaCaptureResult Failed(string cluster, string message) => new() { Cluster = cluster, Succeeded = false, Message = message };

    /// <summary>Where the new segment starts: after <paramref name="Revision"/>, continuing a segment or a full backup.</summary>
    private sealed record ChainStart(long Revision, string? PreviousSegment, string? BaseBackupId);
}
