using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// A materialization run on a member's agent, for hosts that cannot run etcd (a Function App), as drills are: this
/// side reads and decrypts the full backup and the segments, checking them against their manifests, and streams the
/// plaintexts over mutual TLS to the agent's materialize endpoint, which runs the shared replay
/// (<see cref="DeltaReplayer"/>) and answers with the snapshot. The key never leaves this process; the agent only
/// ever sees plaintexts and the manifests' figures. The answer lands in a 0600 file and is checked here (its SHA-256,
/// and its revision equal to the target) before anyone seals it.
/// </summary>
internal sealed class AgentMaterializer(IBackupStore store, IKeyStore keys, AgentClient agents, string agentUrl, ILogger? logger = null)
{
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Where it runs (for messages).</summary>
    public string AgentUrl => agentUrl;

    /// <summary>Materializes <paramref name="plan"/> on the agent and writes the snapshot to <paramref name="outputPath"/> (replaced when it exists).</summary>
    /// <exception cref="InvalidDataException">A backup or segment is damaged or missing (named), the agent found a part or the replay wrong, or its answer is not the target.</exception>
    /// <exception cref="AgentCallException">The agent could not be reached, refused the call, or failed to materialize.</exception>
    public async Task<MaterializeResult> MaterializeAsync(MaterializePlan plan, string outputPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        outputPath = Path.GetFullPath(outputPath);
        var started = Stopwatch.StartNew();
        var deltas = new DeltaCatalog(store, keys);
        UploadPart[] parts =
        [
            new($"the base snapshot (full backup {plan.Base.BackupId})", plan.Base.Snapshot.Size, plan.Base.Snapshot.Sha256, async ct =>
                await EnvelopeReadStream.OpenAsync(await store.OpenReadAsync(plan.Base.Artifact.Name, cancellationToken: ct).ConfigureAwait(false), keys, leaveOpen: false, ct).ConfigureAwait(false)),
            .. plan.Segments.Select(s => new UploadPart($"segment {DeltaCatalog.Label(s)}", s.Plaintext.Size, s.Plaintext.Sha256, ct => deltas.OpenPlaintextAsync(s, ct))),
        ];
        var upload = new MaterializeUploadStream(AgentMaterializeProtocol.Frame(AgentMaterializeRequest.From(plan)), parts);
        (long Revision, long Replayed) answer;
        await using (upload.ConfigureAwait(false))
        {
            try
            {
                answer = await agents.MaterializeAsync(agentUrl, upload, upload.TotalLength, (response, body, ct) => ReceiveAsync(response, body, outputPath, ct), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AgentCallException or HttpRequestException or IOException && upload.Fault is not null)
            {
                // The upload stopped because a part failed on this side: that, not the transport, is the finding.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(upload.Fault!);
                throw;
            }
            catch (AgentCallException ex) when (ex.StatusCode == System.Net.HttpStatusCode.UnprocessableContent)
            {
                // The agent found a part (named) or the replay wrong: the data's fault, as it would be here.
                throw new InvalidDataException(ex.Message, ex);
            }
        }

        var status = await SnapshotInspector.InspectAsync(outputPath, new SnapshotInspectionOptions { Trailer = SnapshotTrailerMode.Present }, cancellationToken).ConfigureAwait(false);
        if (status.Revision != plan.TargetRevision || answer.Revision != plan.TargetRevision)
        {
            File.Delete(outputPath);
            throw new InvalidDataException($"agent {agentUrl} answered a snapshot at revision {status.Revision} (announced {answer.Revision}), not {plan.TargetRevision}");
        }

        _logger.MaterializedOnAgent(plan.Cluster, plan.TargetRevision, agentUrl, plan.Segments.Count, answer.Replayed);
        return new MaterializeResult(plan, outputPath, status.Revision, answer.Replayed, 0, new FileInfo(outputPath).Length, started.Elapsed);
    }

    private async Task<(long Revision, long Replayed)> ReceiveAsync(HttpResponseMessage response, Stream body, string outputPath, CancellationToken cancellationToken)
    {
        var revision = Header(response, AgentMaterializeProtocol.RevisionHeader);
        var replayed = Header(response, AgentMaterializeProtocol.ReplayedHeader);
        var announced = response.Headers.TryGetValues(AgentProtocol.SnapshotSha256Header, out var values) ? values.FirstOrDefault() : null;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        var complete = false;
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            var file = new FileStream(outputPath, options);
            await using (file.ConfigureAwait(false))
            {
                if (!OperatingSystem.IsWindows())
                {
                    // A replaced file keeps its old mode; a snapshot holds every secret of the cluster.
                    File.SetUnixFileMode(file.SafeFileHandle, FileMode600);
                }

                file.SetLength(0);
                var hashing = new IO.HashingReadStream(body, sha, n => size += n);
                await using (hashing.ConfigureAwait(false))
                {
                    await hashing.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
            }

            var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            if (!string.Equals(actual, announced, StringComparison.OrdinalIgnoreCase) || size != response.Content.Headers.ContentLength)
            {
                throw new InvalidDataException($"agent {agentUrl} sent a snapshot ({size} bytes, sha256 {actual}) that is not the announced one ({response.Content.Headers.ContentLength} bytes, sha256 {announced ?? "(none)"})");
            }

            complete = true;
            return (revision, replayed);
        }
        finally
        {
            if (!complete)
            {
                File.Delete(outputPath);
            }
        }
    }

    private long Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"agent {agentUrl} answered without a valid {name} header");
}
