using System.Security.Cryptography;
using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Core.Restore;

/// <summary>
/// A plain snapshot file for <c>restore run --from-file</c>: made by <c>etcdctl snapshot save</c> (or
/// <c>etcd-backup snapshot save</c>, or any tool writing etcd's format), or, with <c>--skip-hash-check</c>, a bbolt db
/// copied out of a member's data dir. It is checked before any member is touched: etcd's sha256 trailer (unless
/// skipped) and the bbolt structure. What the agents receive is always the database part followed by a fresh
/// trailer, so they and etcd's restore tool check it as any snapshot; the file is streamed, never held whole.
/// </summary>
internal static class PlainSnapshotFile
{
    private const int BufferSize = 1 << 20;

    /// <summary>
    /// Checks the file and describes it as a restore source. <see cref="InvalidDataException"/> (corrupt, not a snapshot)
    /// or <see cref="EndOfStreamException"/> (truncated) with one clear line; <see cref="FileNotFoundException"/> when missing.
    /// </summary>
    public static async Task<RestoreBackupInfo> InspectAsync(string path, bool skipHashCheck, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"snapshot file '{full}' does not exist", full);
        }

        var hasTrailer = SnapshotTrailer.HasTrailer(info.Length);
        if (!hasTrailer && !skipHashCheck)
        {
            throw new InvalidDataException(
                $"'{full}' ({info.Length} bytes) has no etcd sha256 trailer: it is truncated, or a db copied out of a data dir (then pass --skip-hash-check, as with etcdctl)");
        }

        SnapshotStatus status;
        try
        {
            status = await SnapshotInspector.InspectAsync(full, new SnapshotInspectionOptions
            {
                Trailer = hasTrailer ? SnapshotTrailerMode.Present : SnapshotTrailerMode.Absent,
                VerifyTrailer = !skipHashCheck,
                TotalKeySemantics = TotalKeySemantics.Etcd36,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{full}' is not an intact etcd snapshot: {ex.Message}", ex);
        }
        catch (EndOfStreamException ex)
        {
            throw new EndOfStreamException($"'{full}' is truncated: {ex.Message}", ex);
        }

        var dbLength = hasTrailer ? info.Length - SnapshotTrailer.Size : info.Length;
        var wholeSha = await HashAsync(full, dbLength, cancellationToken).ConfigureAwait(false);
        return new RestoreBackupInfo
        {
            BackupId = "file:" + Path.GetFileName(full),
            ArtifactName = "",
            Created = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero),
            SnapshotSha256 = wholeSha,
            SnapshotSize = dbLength + SnapshotTrailer.Size,
            Revision = status.Revision,
            TotalKey = status.TotalKey,
            Kek = "",
            SourceFile = full,
        };
    }

    /// <summary>
    /// The stream the agents receive: the first <paramref name="snapshotSize"/> - 32 bytes of the file, then their
    /// SHA-256 as etcd's trailer.
    /// </summary>
    public static Stream OpenRead(string path, long snapshotSize)
    {
        var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        return new TrailerAppendingStream(file, snapshotSize - SnapshotTrailer.Size);
    }

    // SHA-256 of exactly what the agents will receive (database part, then its fresh trailer): the upload header.
    private static async Task<string> HashAsync(string path, long dbLength, CancellationToken cancellationToken)
    {
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var stream = OpenRead(path, dbLength + SnapshotTrailer.Size);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[BufferSize];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                whole.AppendData(buffer, 0, read);
            }
        }

        return Convert.ToHexStringLower(whole.GetHashAndReset());
    }

    /// <summary>Reads <c>length</c> bytes of the inner stream, hashing them, then yields their SHA-256 (32 bytes).</summary>
    private sealed class TrailerAppendingStream(Stream inner, long length) : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;
        private byte[]? _trailer;
        private int _trailerPosition;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length + SnapshotTrailer.Size;

        public override long Position { get => _position + _trailerPosition; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }

            if (_position < length)
            {
                var want = (int)Math.Min(buffer.Length, length - _position);
                var read = await inner.ReadAsync(buffer[..want], cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new EndOfStreamException($"the snapshot file ended after {_position} of {length} bytes (it changed since it was checked)");
                }

                _sha.AppendData(buffer.Span[..read]);
                _position += read;
                return read;
            }

            _trailer ??= _sha.GetHashAndReset();
            var n = Math.Min(buffer.Length, _trailer.Length - _trailerPosition);
            _trailer.AsSpan(_trailerPosition, n).CopyTo(buffer.Span);
            _trailerPosition += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha.Dispose();
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            _sha.Dispose();
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
