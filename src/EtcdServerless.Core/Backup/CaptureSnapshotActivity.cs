using System.Security.Cryptography;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Etcd.Errors;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// Streams one snapshot through the capture path <c>snapshot save</c> uses (<see cref="SnapshotCapture"/>: member
/// fallback, idle timeout, trailer verification) into a <see cref="SealingSnapshotSink"/> (temp file for bbolt
/// inspection, SHA-256, compress → encrypt → store), which commits the artifact only once the snapshot checked
/// out. A stream that breaks (or a snapshot that fails verification) is abandoned, its staged upload aborted, and
/// the next ranked member is tried; a store fault ends the capture. One activity, because the stream cannot be
/// split across activities.
/// </summary>
internal sealed class CaptureSnapshotActivity(BackupEnvironment environment) : IActivity<CaptureRequest, CaptureResult>
{
    public const string ActivityName = "Backup_CaptureSnapshot";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<CaptureSnapshotActivity>();

    public string Name => ActivityName;

    public async Task<CaptureResult> RunAsync(CaptureRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var cluster = environment.FindCluster(input.Cluster);
        if (cluster is null)
        {
            return CaptureResult.Failed($"Cluster '{input.Cluster}' is not configured.");
        }

        KeyEncryptionKey kek;
        try
        {
            kek = await environment.Keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            return CaptureResult.Failed($"No key-encryption key: {ex.Message}");
        }

        using (kek)
        {
            var ranking = await SourceCandidates.RankAsync(environment, cluster, cancellationToken).ConfigureAwait(false);
            var problems = new List<string>(ranking.Skipped);
            if (ranking.Candidates.Count == 0)
            {
                return CaptureResult.Failed(
                    $"No member of cluster '{input.Cluster}' can serve a snapshot: {string.Join("; ", ranking.Skipped)}", problems);
            }

            var byEndpoint = ranking.Candidates.ToDictionary(c => c.Endpoint);
            var plan = new SnapshotSourcePlan(
                [.. ranking.Candidates.Select(c => new SnapshotSourceCandidate(
                    c.Endpoint, c.MemberId, c.Name, c.IsLeader, c.RaftIndex, c.RaftTerm, c.Version, 0, "ranked for the backup"))],
                []);
            var capture = new SnapshotCapture(
                environment.Clients.CreateOptions(cluster, ranking.Candidates[0].Endpoint),
                logger: _logger,
                timeProvider: environment.Time);
            try
            {
                var result = await capture.StreamAsync<StagedArtifact>(
                    plan,
                    async (start, ct) =>
                    {
                        var source = byEndpoint[start.Source.Endpoint];
                        _logger.SourceChosen(input.Cluster, source.Endpoint.ToString(), source.IsLeader);
                        return await SealingSnapshotSink.OpenAsync(environment, input, source, kek, ct).ConfigureAwait(false);
                    },
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                problems.AddRange(DescribeFailures(input.Cluster, result.Attempts));
                return new CaptureResult { Succeeded = true, Artifact = result.Value, Problems = problems };
            }
            catch (SnapshotCaptureException ex)
            {
                problems.AddRange(DescribeFailures(input.Cluster, ex.Attempts));
                return CaptureResult.Failed(
                    $"Every member of cluster '{input.Cluster}' failed to deliver a verified snapshot: {string.Join("; ", problems)}", problems);
            }
            catch (EtcdException ex) when (ex is EtcdAuthenticationException or EtcdPermissionDeniedException)
            {
                // Credentials or role: every member would refuse the same way.
                problems.Add($"{ex.Endpoint}: {ex.ServerMessage}");
                return CaptureResult.Failed($"etcd refused the snapshot: {ex.Message}", problems);
            }
            catch (Exception ex) when (ex is BackupStoreException or IOException or UnauthorizedAccessException or CryptographicException)
            {
                // The sinks failed (store, temp disk, sealing): another member would fail the same way.
                problems.Add("store fault");
                return CaptureResult.Failed($"Writing the artifact failed: {ex.Message}", problems);
            }
        }
    }

    private IEnumerable<string> DescribeFailures(string cluster, IReadOnlyList<SnapshotAttempt> attempts)
    {
        foreach (var attempt in attempts)
        {
            if (attempt.Succeeded)
            {
                continue;
            }

            _logger.SourceAttemptFailed(cluster, attempt.Endpoint.ToString(), attempt.Error ?? "");
            yield return $"{attempt.Endpoint}: snapshot stream broke or did not verify after {attempt.BytesReceived} bytes: {attempt.Error}";
        }
    }
}
