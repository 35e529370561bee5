using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Etcd.Inspection;

/// <summary>etcd's snapshot trailer: SHA-256 of the database bytes appended as the last 32 bytes.</summary>
internal static class SnapshotTrailer
{
    /// <summary>Trailer length in bytes.</summary>
    public const int Size = 32;

    private const int BufferSize = 1 << 20;

    /// <summary>etcd's rule (<c>hasChecksum</c>): a file has a trailer exactly when its length mod 512 is 32.</summary>
    public static bool HasTrailer(long length) => length >= Size && length % 512 == Size;

    /// <summary>
    /// Checks that the last 32 bytes of the file equal the SHA-256 of everything before them.
    /// <see cref="InvalidDataException"/> on mismatch; <see cref="EndOfStreamException"/> when the file is
    /// shorter than a trailer.
    /// </summary>
    public static async Task VerifyAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        await VerifyAsync(handle, RandomAccess.GetLength(handle), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Same check over a readable stream positioned at the start of the snapshot; reads to its end.</summary>
    public static async Task VerifyAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize + Size);
        try
        {
            // Hold back the last 32 bytes seen so far: they may be the trailer.
            var held = 0;
            while (true)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(held, BufferSize), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                held += n;
                if (held > Size)
                {
                    sha.AppendData(buffer, 0, held - Size);
                    Buffer.BlockCopy(buffer, held - Size, buffer, 0, Size);
                    held = Size;
                }
            }

            if (held < Size)
            {
                throw new EndOfStreamException($"snapshot is {held} bytes, shorter than its {Size}-byte sha256 trailer");
            }

            Compare(sha.GetHashAndReset(), buffer.AsSpan(0, Size));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static async Task VerifyAsync(SafeFileHandle handle, long length, CancellationToken cancellationToken)
    {
        if (length < Size)
        {
            throw new EndOfStreamException($"snapshot is {length} bytes, shorter than its {Size}-byte sha256 trailer");
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var dataLength = length - Size;
            long offset = 0;
            while (offset < dataLength)
            {
                var want = (int)Math.Min(BufferSize, dataLength - offset);
                var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, want), offset, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"file ended at offset {offset} while hashing {dataLength} bytes");
                }

                sha.AppendData(buffer, 0, n);
                offset += n;
            }

            var trailer = buffer.AsMemory(0, Size);
            var read = 0;
            while (read < Size)
            {
                var n = await RandomAccess.ReadAsync(handle, trailer[read..], dataLength + read, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"file ended at offset {dataLength + read} inside the sha256 trailer");
                }

                read += n;
            }

            Compare(sha.GetHashAndReset(), trailer.Span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void Compare(ReadOnlySpan<byte> computed, ReadOnlySpan<byte> trailer)
    {
        if (!computed.SequenceEqual(trailer))
        {
            throw new InvalidDataException(
                $"snapshot sha256 trailer mismatch: expected {Convert.ToHexStringLower(trailer)}, computed {Convert.ToHexStringLower(computed)}");
        }
    }
}
