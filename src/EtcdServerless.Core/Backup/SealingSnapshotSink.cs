using System.Globalization;
using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// The backup's snapshot sink: tees every chunk to a temp file (bbolt needs random access), a SHA-256 of the
/// file and the compress → encrypt → store writer. On completion (stream ended, trailer verified by
/// <see cref="SnapshotCapture"/>) it inspects the temp file and only then commits the artifact. Disposed
/// uncompleted, it aborts the staged upload, so a failed attempt leaves nothing visible.
/// </summary>
internal sealed class SealingSnapshotSink : ISnapshotSink<StagedArtifact>
{
    private const int TempFileBufferSize = 1 << 20;

    private readonly BackupEnvironment _environment;
    private readonly CaptureRequest _input;
    private readonly SourceCandidate _source;
    private readonly KeyEncryptionKey _kek;
    private readonly string _backupId;
    private readonly string _artifactName;
    private readonly DateTimeOffset _retainUntil;
    private readonly long _started;
    private readonly FileStream _temp;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private IBackupObjectWriter? _writer;
    private EnvelopeWriteStream? _envelope;
    private long _size;

    private SealingSnapshotSink(BackupEnvironment environment, CaptureRequest input, SourceCandidate source, KeyEncryptionKey kek)
    {
        _environment = environment;
        _input = input;
        _source = source;
        _kek = kek;
        _started = environment.Time.GetTimestamp();

        // The id carries the revision the member reported before streaming (the snapshot's own revision, which
        // can only be higher, is in the manifest): the store needs the name before the first byte.
        _backupId = BackupNaming.CreateBackupId(input.StartedAt, source.Revision);
        _artifactName = BackupNaming.ArtifactName(input.Cluster, _backupId);
        _retainUntil = environment.Time.GetUtcNow().AddDays(environment.Options.Store.ImmutabilityDays);
        // Plaintext: a private, already-unlinked scratch file (no copy survives any exit, kill -9 included).
        _temp = PrivateTempFiles.Create(environment.Pipeline.TempDirectory, "capture", TempFileBufferSize);
    }

    /// <summary>Creates the temp file and opens the staged upload for one attempt from <paramref name="source"/>.</summary>
    public static async Task<SealingSnapshotSink> OpenAsync(
        BackupEnvironment environment, CaptureRequest input, SourceCandidate source, KeyEncryptionKey kek, CancellationToken cancellationToken = default)
    {
        var sink = new SealingSnapshotSink(environment, input, source, kek);
        try
        {
            sink._writer = await environment.Store.OpenWriteAsync(
                sink._artifactName,
                new BackupObjectWriteOptions
                {
                    RetainUntil = sink._retainUntil,
                    RequireImmutability = environment.Options.Store.RequireImmutability,
                    Tags = BackupCatalog.ArtifactTags(input.Cluster, source.Revision, verified: true),
                },
                cancellationToken).ConfigureAwait(false);
            sink._envelope = await EnvelopeWriteStream.CreateAsync(
                sink._writer.Content, kek, environment.Pipeline.Envelope, ManifestAuthenticator.Identity(input.Cluster, sink._backupId), leaveOpen: true, cancellationToken)
                .ConfigureAwait(false);
            return sink;
        }
        catch
        {
            await sink.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        await _temp.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
        _sha.AppendData(chunk.Span);
        _size += chunk.Length;
        await _envelope!.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<StagedArtifact> CompleteAsync(SnapshotStreamSummary summary, CancellationToken cancellationToken)
    {
        var time = _environment.Time;
        var streamed = time.GetElapsedTime(_started);
        await _temp.FlushAsync(cancellationToken).ConfigureAwait(false);
        var verifyStarted = time.GetTimestamp();

        // Invalid or truncated bbolt data propagates: the capture tries the next member.
        var status = await SnapshotInspector.InspectAsync(
            _temp.SafeFileHandle,
            new SnapshotInspectionOptions
            {
                Trailer = SnapshotTrailerMode.Present,
                // The capture checked the trailer against the hash computed while streaming; no second pass.
                VerifyTrailer = false,
                TotalKeySemantics = SemanticsFor(_source.Version),
            },
            cancellationToken).ConfigureAwait(false);

        var verified = time.GetElapsedTime(verifyStarted);
        var uploadStarted = time.GetTimestamp();
        var envelope = _envelope!;
        await envelope.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var committed = await _writer!.CommitAsync(cancellationToken).ConfigureAwait(false);
        var uploaded = time.GetElapsedTime(uploadStarted);

        return new StagedArtifact
        {
            BackupId = _backupId,
            Created = _input.StartedAt,
            Source = new SourceMemberInfo
            {
                Id = _source.MemberId.ToString("x", CultureInfo.InvariantCulture),
                Name = _source.Name,
                Endpoint = _source.Endpoint.ToString(),
                IsLeader = _source.IsLeader,
                RaftTerm = _source.RaftTerm,
                RaftIndex = _source.RaftIndex,
                EtcdVersion = _source.Version,
            },
            Snapshot = new SnapshotInfo
            {
                Sha256 = Convert.ToHexStringLower(_sha.GetHashAndReset()),
                Size = _size,
                Revision = status.Revision,
                TotalKey = status.TotalKey,
                Hash = status.Hash,
            },
            Artifact = ArtifactInfo.Sealed(_artifactName, envelope, committed, _retainUntil),
            Key = KeyReference.To(_environment.Keys, _kek),
            Durations = new BackupDurations
            {
                Total = time.GetElapsedTime(_started),
                Snapshot = streamed,
                Verify = verified,
                Upload = uploaded,
            },
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_envelope is not null)
        {
            await _envelope.DisposeAsync().ConfigureAwait(false);
        }

        // Disposing an uncommitted writer aborts the staged upload.
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }

        await _temp.DisposeAsync().ConfigureAwait(false);
        _sha.Dispose();
    }

    private static TotalKeySemantics SemanticsFor(string etcdVersion) =>
        etcdVersion.StartsWith("3.4", StringComparison.Ordinal) || etcdVersion.StartsWith("3.5", StringComparison.Ordinal) || etcdVersion.Length == 0
            ? TotalKeySemantics.Etcd34
            : TotalKeySemantics.Etcd36;
}
