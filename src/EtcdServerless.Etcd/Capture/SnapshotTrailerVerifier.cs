using System.Buffers;
using System.Security.Cryptography;

namespace EtcdServerless.Etcd.Capture;

/// <summary>Size and digest of a verified snapshot: the db bytes and their SHA-256 (= the 32-byte trailer).</summary>
internal sealed record SnapshotDigest(long DbSize, byte[] Sha256)
{
    /// <summary>Bytes in the file: db plus the 32-byte trailer.</summary>
    public long FileSize => DbSize + SnapshotTrailerVerifier.TrailerSize;

    /// <summary>Lower-case hex of <see cref="Sha256"/>.</summary>
    public string Sha256Hex => Convert.ToHexStringLower(Sha256);
}

/// <summary>
/// Checks etcd's snapshot trailer incrementally: the stream is the bbolt db followed by SHA-256(db), so the
/// last 32 bytes seen are held back and everything before them is hashed. Works for any chunking and never
/// buffers more than 32 bytes.
/// </summary>
internal sealed class SnapshotTrailerVerifier : IDisposable
{
    /// <summary>Size of the sha256 trailer etcd appends.</summary>
    public const int TrailerSize = 32;

    // etcdctl/etcdutl decide that a trailer exists only when size % 512 == 32 (bolt files are page multiples).
    private const int RestoreAlignment = 512;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _tail = new byte[TrailerSize];
    private int _tailLength;

    /// <summary>Bytes appended so far (db + whatever part of the trailer arrived).</summary>
    public long TotalBytes { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        TotalBytes += data.Length;
        var combined = _tailLength + data.Length;
        if (combined <= TrailerSize)
        {
            data.CopyTo(_tail.AsSpan(_tailLength));
            _tailLength = combined;
            return;
        }

        // Hash everything except the newest 32 bytes of (tail + data), then keep those as the new tail.
        var toHash = combined - TrailerSize;
        var fromTail = Math.Min(_tailLength, toHash);
        _hash.AppendData(_tail.AsSpan(0, fromTail));
        var fromData = toHash - fromTail;
        _hash.AppendData(data[..fromData]);
        Span<byte> next = stackalloc byte[TrailerSize];
        var kept = _tailLength - fromTail;
        _tail.AsSpan(fromTail, kept).CopyTo(next);
        data[fromData..].CopyTo(next[kept..]);
        next.CopyTo(_tail);
        _tailLength = TrailerSize;
    }

    /// <summary>Checks the trailer against the hash of everything before it.</summary>
    /// <exception cref="InvalidDataException">Too short, not restorable (size rule), or the sha256 does not match.</exception>
    public SnapshotDigest Complete()
    {
        var dbSize = TotalBytes - TrailerSize;
        if (dbSize <= 0)
        {
            throw new InvalidDataException($"Snapshot stream too short ({TotalBytes} bytes): no database and sha256 trailer.");
        }

        if (dbSize % RestoreAlignment != 0)
        {
            throw new InvalidDataException(
                $"Snapshot database size {dbSize} is not a multiple of {RestoreAlignment}: the stream is truncated or not an etcd snapshot (etcdctl would not find its sha256 trailer).");
        }

        var actual = _hash.GetHashAndReset();
        if (!CryptographicOperations.FixedTimeEquals(actual, _tail))
        {
            throw new InvalidDataException(
                $"Snapshot sha256 trailer mismatch: trailer {Convert.ToHexStringLower(_tail)}, database hashes to {Convert.ToHexStringLower(actual)}.");
        }

        return new SnapshotDigest(dbSize, actual);
    }

    /// <summary>Reads a whole snapshot (file or stream) and verifies its trailer.</summary>
    public static async Task<SnapshotDigest> VerifyAsync(Stream snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        using var verifier = new SnapshotTrailerVerifier();
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            int read;
            while ((read = await snapshot.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                verifier.Append(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return verifier.Complete();
    }

    /// <summary>Verifies a snapshot file on disk.</summary>
    public static async Task<SnapshotDigest> VerifyFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            return await VerifyAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _hash.Dispose();
}
