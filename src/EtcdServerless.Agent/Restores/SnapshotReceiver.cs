using System.Buffers;
using System.Security.Cryptography;

namespace EtcdServerless.Agent.Restores;

/// <summary>
/// Streams an uploaded snapshot to a staging file while hashing it once: SHA-256 over the body minus its last 32
/// bytes gives the database hash (etcd's trailer), and the same state fed the trailer gives the whole body's hash,
/// so both checks cost one pass. Nothing is held in memory beyond one buffer and the 32-byte tail.
/// </summary>
/// <remarks>
/// The staging file is not fsynced: it is only the input of etcd's restore tool, which writes (and syncs) its own
/// copy, and the file is deleted after the swap. Forcing it to disk cost a full write of the snapshot per member
/// (three on one host in the bench). A crash of the host can leave it torn; <see cref="RestoreService"/> therefore
/// lets the tool skip its own hash check only for files this agent process received and verified itself.
/// </remarks>
internal static class SnapshotReceiver
{
    private const int TrailerLength = 32;

    /// <summary>Result of a received snapshot.</summary>
    internal sealed record Received(long Size, string Sha256, string DbSha256, bool TrailerValid);

    /// <summary>Creates a new staging file readable by the agent's user only; fails when anything exists at the path.</summary>
    public static FileStream CreateStagingFile(string stagingPath)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            // A snapshot is the whole keyspace: readable by the agent's user only.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new FileStream(stagingPath, options);
    }

    /// <summary>Copies <paramref name="body"/> into <paramref name="file"/> (disposed here) while hashing it.</summary>
    public static async Task<Received> ReceiveAsync(Stream body, FileStream file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        using var db = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var tail = new byte[TrailerLength];
        var tailLength = 0;
        long size = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            await using (file.ConfigureAwait(false))
            {
                // The body arrives a few TLS records per read: gather a whole buffer before hashing and writing it, and
                // write it synchronously (a copy into the page cache or tmpfs; an asynchronous file write on Unix is the
                // same copy after a hop to another thread, per read).
                var filled = 0;
                int read;
                do
                {
                    read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                    filled += read;
                    if (filled == buffer.Length || (read == 0 && filled > 0))
                    {
                        HoldBackTail(db, tail, ref tailLength, buffer.AsSpan(0, filled));
                        file.Write(buffer, 0, filled);
                        size += filled;
                        filled = 0;
                    }
                }
                while (read > 0);

                file.Flush();
            }

            // The database hash is the state so far; the whole body's is the same state fed the held-back tail.
            var dbHash = db.GetCurrentHash();
            db.AppendData(tail, 0, tailLength);
            var wholeHash = db.GetHashAndReset();
            var trailerValid = tailLength == TrailerLength && (size - TrailerLength) % 512 == 0 && dbHash.AsSpan().SequenceEqual(tail);
            return new Received(size, Convert.ToHexStringLower(wholeHash), Convert.ToHexStringLower(dbHash), trailerValid);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Feeds the database hash with everything except the latest 32 bytes, which stay in `tail` until more arrives.
    private static void HoldBackTail(IncrementalHash db, byte[] tail, ref int tailLength, ReadOnlySpan<byte> chunk)
    {
        if (chunk.Length >= TrailerLength)
        {
            db.AppendData(tail.AsSpan(0, tailLength));
            db.AppendData(chunk[..^TrailerLength]);
            chunk[^TrailerLength..].CopyTo(tail);
            tailLength = TrailerLength;
            return;
        }

        var overflow = tailLength + chunk.Length - TrailerLength;
        if (overflow > 0)
        {
            db.AppendData(tail.AsSpan(0, overflow));
            tail.AsSpan(overflow, tailLength - overflow).CopyTo(tail);
            tailLength -= overflow;
        }

        chunk.CopyTo(tail.AsSpan(tailLength));
        tailLength += chunk.Length;
    }
}
