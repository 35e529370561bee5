using System.Buffers;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.IO;
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

    // Chunks read ahead of the sinks (etcd sends 32 KiB chunks: a few hundred KiB in flight).
    private const int QueueDepth = 16;

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
                _logger.SourceChosen(input.Cluster, candidate.Endpoint.ToString(), candidate.IsLeader);
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
        var backupId = BackupNaming.CreateBackupId(input.StartedAt, source.Revision);
        var artifactName = BackupNaming.ArtifactName(input.Cluster, backupId);
        var retainUntil = time.GetUtcNow().AddDays(environment.Options.Store.ImmutabilityDays);
        // Plaintext: a private, already-unlinked scratch file (no copy survives any exit, kill -9 included).
        var temp = PrivateTempFiles.Create(environment.Pipeline.TempDirectory, "capture", TempFileBufferSize);
        await using (temp.ConfigureAwait(false))
        {
            var writer = await environment.Store.OpenWriteAsync(
                artifactName,
                new BackupObjectWriteOptions
                {
                    RetainUntil = retainUntil,
                    RequireImmutability = environment.Options.Store.RequireImmutability,
                    Tags = BackupCatalog.ArtifactTags(input.Cluster, source.Revision, verified: true),
                },
                cancellationToken).ConfigureAwait(false);

            // Disposing an uncommitted writer aborts the staged upload: a failed attempt leaves nothing visible.
            await using (writer.ConfigureAwait(false))
            {
                var envelope = await EnvelopeWriteStream.CreateAsync(
                    writer.Content, kek, environment.Pipeline.Envelope, ManifestAuthenticator.Identity(input.Cluster, backupId), leaveOpen: true, cancellationToken)
                    .ConfigureAwait(false);
                await using (envelope.ConfigureAwait(false))
                {
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    using var trailer = new TrailerTracker();
                    var size = await PumpAsync(cluster, source, async data =>
                    {
                        await temp.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                        sha.AppendData(data.Span);
                        trailer.Append(data.Span);
                        await envelope.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                    }, cancellationToken).ConfigureAwait(false);

                    var streamed = time.GetElapsedTime(started);
                    await temp.FlushAsync(cancellationToken).ConfigureAwait(false);
                    var verifyStarted = time.GetTimestamp();
                    if (!trailer.Matches())
                    {
                        throw new SourceFailedException("snapshot verification failed: the sha256 trailer does not match the streamed data", new InvalidDataException("snapshot sha256 trailer mismatch"));
                    }

                    SnapshotStatus status;
                    try
                    {
                        status = await SnapshotInspector.InspectAsync(
                            temp.SafeFileHandle,
                            new SnapshotInspectionOptions
                            {
                                Trailer = SnapshotTrailerMode.Present,
                                // The trailer was checked against the hash computed while streaming; no second pass.
                                VerifyTrailer = false,
                                TotalKeySemantics = SemanticsFor(source.Version),
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
                            Id = source.MemberId.ToString("x", CultureInfo.InvariantCulture),
                            Name = source.Name,
                            Endpoint = source.Endpoint.ToString(),
                            IsLeader = source.IsLeader,
                            RaftTerm = source.RaftTerm,
                            RaftIndex = source.RaftIndex,
                            EtcdVersion = source.Version,
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

    /// <summary>
    /// Reads the member's snapshot stream on its own task into a small bounded queue while <paramref name="sink"/>
    /// writes the previous chunks, so network receive overlaps hashing, compression and encryption. Memory stays
    /// bounded by the queue (a few pooled chunk buffers).
    /// </summary>
    private async Task<long> PumpAsync(
        Configuration.ClusterOptions cluster, SourceCandidate source, Func<ReadOnlyMemory<byte>, ValueTask> sink, CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<(byte[] Buffer, int Length)>(new BoundedChannelOptions(QueueDepth) { SingleReader = true, SingleWriter = true });
        using var pump = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? sourceFailure = null;
        var producer = Task.Run(async () =>
        {
            try
            {
                using var client = environment.Clients.Create(cluster, source.Endpoint);
                var chunks = client.SnapshotAsync(pump.Token).GetAsyncEnumerator(pump.Token);
                await using (chunks.ConfigureAwait(false))
                {
                    while (await NextAsync(chunks, pump.Token).ConfigureAwait(false))
                    {
                        var data = chunks.Current.Blob;
                        var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
                        data.CopyTo(buffer);
                        await queue.Writer.WriteAsync((buffer, data.Length), pump.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (SourceFailedException ex)
            {
                sourceFailure = ex;
            }
            catch (OperationCanceledException) when (pump.IsCancellationRequested)
            {
                // The consumer stopped (sink fault or cancellation); it reports why.
            }
            finally
            {
                queue.Writer.TryComplete();
            }
        }, CancellationToken.None);

        long size = 0;
        try
        {
            await foreach (var (buffer, length) in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await sink(buffer.AsMemory(0, length)).ConfigureAwait(false);
                    size += length;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        finally
        {
            await pump.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(false);
            while (queue.Reader.TryRead(out var left))
            {
                ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }

        if (sourceFailure is not null)
        {
            ExceptionDispatchInfo.Throw(sourceFailure);
        }

        return size;
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

    /// <summary>
    /// Hashes all but the last 32 bytes of the stream as it passes and keeps those 32: at the end they must be the
    /// SHA-256 of everything before them (etcd's trailer), checked without a second pass over the file.
    /// </summary>
    private sealed class TrailerTracker : IDisposable
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly byte[] _tail = new byte[SnapshotTrailer.Size];
        private int _tailLength;

        public void Append(ReadOnlySpan<byte> data)
        {
            if (data.Length >= SnapshotTrailer.Size)
            {
                _hash.AppendData(_tail.AsSpan(0, _tailLength));
                _hash.AppendData(data[..^SnapshotTrailer.Size]);
                data[^SnapshotTrailer.Size..].CopyTo(_tail);
                _tailLength = SnapshotTrailer.Size;
                return;
            }

            // A short chunk: release the oldest tail bytes that are no longer among the last 32.
            var overflow = Math.Max(0, _tailLength + data.Length - SnapshotTrailer.Size);
            _hash.AppendData(_tail.AsSpan(0, overflow));
            _tail.AsSpan(overflow, _tailLength - overflow).CopyTo(_tail);
            _tailLength -= overflow;
            data.CopyTo(_tail.AsSpan(_tailLength));
            _tailLength += data.Length;
        }

        public bool Matches() =>
            _tailLength == SnapshotTrailer.Size && _hash.GetHashAndReset().AsSpan().SequenceEqual(_tail);

        public void Dispose() => _hash.Dispose();
    }

    /// <summary>This member could not deliver a verified snapshot; the next one may.</summary>
    private sealed class SourceFailedException(string message, Exception innerException) : Exception(message, innerException);
}
