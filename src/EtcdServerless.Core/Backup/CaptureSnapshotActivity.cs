using System.Globalization;
using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// Streams one snapshot and tees every chunk to a temp file (bbolt needs random access), a SHA-256 and the
/// compress → encrypt → store writer. At the end of the stream it checks etcd's trailer and inspects the temp
/// file, and only then commits the artifact. A stream that breaks (or a snapshot that fails verification) is
/// abandoned, its staged upload aborted, and the next ranked member is tried; a store fault ends the capture.
/// One activity, because the stream cannot be split across activities.
/// </summary>
internal sealed class CaptureSnapshotActivity(BackupEnvironment environment) : IActivity<CaptureRequest, CaptureResult>
{
    public const string ActivityName = "Backup_CaptureSnapshot";

    private const int TempFileBufferSize = 1 << 20;

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
            var attempts = new List<string>(ranking.Skipped);
            if (ranking.Candidates.Count == 0)
            {
                return CaptureResult.Failed(
                    $"No member of cluster '{input.Cluster}' can serve a snapshot: {string.Join("; ", ranking.Skipped)}", attempts);
            }

            foreach (var candidate in ranking.Candidates)
            {
                _logger.SourceChosen(input.Cluster, candidate.Endpoint.ToString(), candidate.Status.IsLeader);
                try
                {
                    var artifact = await CaptureFromAsync(input, cluster, candidate, kek, cancellationToken).ConfigureAwait(false);
                    attempts.Add($"{candidate.Endpoint}: captured");
                    return new CaptureResult { Succeeded = true, Artifact = artifact, Attempts = attempts };
                }
                catch (SourceFailedException ex)
                {
                    _logger.SourceAttemptFailed(input.Cluster, candidate.Endpoint.ToString(), ex.Message);
                    attempts.Add($"{candidate.Endpoint}: {ex.Message}");
                }
                catch (Exception ex) when (ex is BackupStoreException or IOException or UnauthorizedAccessException or CryptographicException)
                {
                    // The sinks failed (store, temp disk, sealing): another member would fail the same way.
                    attempts.Add($"{candidate.Endpoint}: store fault");
                    return CaptureResult.Failed($"Writing the artifact failed: {ex.Message}", attempts);
                }
            }

            return CaptureResult.Failed(
                $"Every member of cluster '{input.Cluster}' failed to deliver a verified snapshot: {string.Join("; ", attempts)}", attempts);
        }
    }

    private async Task<StagedArtifact> CaptureFromAsync(
        CaptureRequest input, Configuration.ClusterOptions cluster, SourceCandidate source, KeyEncryptionKey kek, CancellationToken cancellationToken)
    {
        var time = environment.Time;
        var started = time.GetTimestamp();

        // The id carries the revision the member reported before streaming (the snapshot's own revision, which
        // can only be higher, is in the manifest): the store needs the name before the first byte.
        var backupId = BackupNaming.CreateBackupId(input.StartedAt, source.Status.Header.Revision);
        var artifactName = BackupNaming.ArtifactName(input.Cluster, backupId);
        var retainUntil = time.GetUtcNow().AddDays(environment.Options.Store.ImmutabilityDays);
        var tempPath = Path.Combine(environment.TempDirectory, $"etcd-backup-{input.Cluster}-{backupId}-{Guid.NewGuid():N}.snap");

        var temp = new FileStream(tempPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
            BufferSize = TempFileBufferSize,
        });
        await using (temp.ConfigureAwait(false))
        {
            var writer = await environment.Store.OpenWriteAsync(
                artifactName,
                new BackupObjectWriteOptions
                {
                    RetainUntil = retainUntil,
                    RequireImmutability = environment.Options.Store.RequireImmutability,
                    Tags = BackupCatalog.ArtifactTags(input.Cluster, source.Status.Header.Revision, verified: true),
                },
                cancellationToken).ConfigureAwait(false);

            // Disposing an uncommitted writer aborts the staged upload: a failed attempt leaves nothing visible.
            await using (writer.ConfigureAwait(false))
            {
                var envelope = await EnvelopeWriteStream.CreateAsync(writer.Content, kek, environment.Pipeline.Envelope, leaveOpen: true, cancellationToken)
                    .ConfigureAwait(false);
                await using (envelope.ConfigureAwait(false))
                {
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    long size = 0;
                    using (var client = environment.Clients.Create(cluster, source.Endpoint))
                    {
                        var chunks = client.SnapshotAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                        await using (chunks.ConfigureAwait(false))
                        {
                            while (await NextAsync(chunks, cancellationToken).ConfigureAwait(false))
                            {
                                var data = chunks.Current.Blob;
                                await temp.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                                sha.AppendData(data.Span);
                                await envelope.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                                size += data.Length;
                            }
                        }
                    }

                    var streamed = time.GetElapsedTime(started);
                    await temp.FlushAsync(cancellationToken).ConfigureAwait(false);
                    var verifyStarted = time.GetTimestamp();
                    SnapshotStatus status;
                    try
                    {
                        status = await SnapshotInspector.InspectAsync(
                            temp.SafeFileHandle,
                            new SnapshotInspectionOptions
                            {
                                Trailer = SnapshotTrailerMode.Present,
                                VerifyTrailer = true,
                                TotalKeySemantics = SemanticsFor(source.Status.Version),
                            },
                            cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
                    {
                        throw new SourceFailedException($"snapshot verification failed: {ex.Message}", ex);
                    }

                    var verified = time.GetElapsedTime(verifyStarted);
                    var uploadStarted = time.GetTimestamp();
                    await envelope.CompleteAsync(cancellationToken).ConfigureAwait(false);
                    var committed = await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                    var uploaded = time.GetElapsedTime(uploadStarted);

                    return new StagedArtifact
                    {
                        BackupId = backupId,
                        Created = input.StartedAt,
                        Source = new SourceMemberInfo
                        {
                            Id = source.Status.Header.MemberId.ToString("x", CultureInfo.InvariantCulture),
                            Name = source.Name,
                            Endpoint = source.Endpoint.ToString(),
                            IsLeader = source.Status.IsLeader,
                            RaftTerm = source.Status.RaftTerm,
                            RaftIndex = source.Status.RaftIndex,
                            EtcdVersion = source.Status.Version,
                        },
                        Snapshot = new SnapshotInfo
                        {
                            Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset()),
                            Size = size,
                            Revision = status.Revision,
                            TotalKey = status.TotalKey,
                            Hash = status.Hash,
                        },
                        Artifact = new ArtifactInfo
                        {
                            Name = artifactName,
                            Sha256 = Convert.ToHexStringLower(envelope.ArtifactSha256!),
                            Size = committed.Length,
                            Compression = envelope.Header.Compression.ToString().ToLowerInvariant(),
                            FormatVersion = envelope.Header.FormatVersion,
                            RetainUntil = committed.RetainUntil ?? retainUntil,
                        },
                        Key = new KeyReference { Store = environment.Keys.Description, KekId = kek.KeyId, KekVersion = kek.Version },
                        Durations = new BackupDurations
                        {
                            Total = time.GetElapsedTime(started),
                            Snapshot = streamed,
                            Verify = verified,
                            Upload = uploaded,
                        },
                    };
                }
            }
        }
    }

    /// <summary>Advances the snapshot stream; a failure of the source (not of our sinks) becomes <see cref="SourceFailedException"/>.</summary>
    private static async Task<bool> NextAsync(IAsyncEnumerator<Etcd.Client.EtcdSnapshotChunk> chunks, CancellationToken cancellationToken)
    {
        try
        {
            return await chunks.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is EtcdException or HttpRequestException or IOException or InvalidDataException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new SourceFailedException($"snapshot stream broke: {ex.Message}", ex);
        }
    }

    private static TotalKeySemantics SemanticsFor(string etcdVersion) =>
        etcdVersion.StartsWith("3.4", StringComparison.Ordinal) || etcdVersion.StartsWith("3.5", StringComparison.Ordinal) || etcdVersion.Length == 0
            ? TotalKeySemantics.Etcd34
            : TotalKeySemantics.Etcd36;

    /// <summary>This member could not deliver a verified snapshot; the next one may.</summary>
    private sealed class SourceFailedException(string message, Exception innerException) : Exception(message, innerException);
}
