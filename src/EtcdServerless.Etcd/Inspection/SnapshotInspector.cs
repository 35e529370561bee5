using EtcdServerless.Etcd.Bbolt;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Etcd.Inspection;

/// <summary>
/// Computes <c>snapshot status</c> (hash, revision, total keys, total size, and under 3.6 rules the storage
/// version) of an etcd snapshot file exactly as etcd's tools do, in one streaming pass with bounded memory,
/// after the same integrity checks (bbolt structure, and the sha256 trailer when present).
/// </summary>
/// <remarks>
/// Errors: <see cref="InvalidDataException"/> for any malformed content (naming the page and/or offset, or
/// "snapshot sha256 trailer mismatch"); <see cref="EndOfStreamException"/> when the file is shorter than its
/// meta page or than the database size its meta declares (truncation).
/// </remarks>
internal static class SnapshotInspector
{
    private static readonly SnapshotInspectionOptions s_defaults = new();

    /// <summary>Inspects the snapshot at <paramref name="path"/>.</summary>
    public static async Task<SnapshotStatus> InspectAsync(string path, SnapshotInspectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return await InspectAsync(handle, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inspects an open snapshot file (for example the temp file a backup streams into).</summary>
    public static async Task<SnapshotStatus> InspectAsync(SafeFileHandle handle, SnapshotInspectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        options ??= s_defaults;
        var length = RandomAccess.GetLength(handle);
        var hasTrailer = options.Trailer switch
        {
            SnapshotTrailerMode.Present => true,
            SnapshotTrailerMode.Absent => false,
            _ => SnapshotTrailer.HasTrailer(length),
        };
        if (hasTrailer && length < SnapshotTrailer.Size)
        {
            throw new EndOfStreamException($"snapshot is {length} bytes, shorter than its {SnapshotTrailer.Size}-byte sha256 trailer");
        }

        var dataLength = hasTrailer ? length - SnapshotTrailer.Size : length;

        // The trailer hash runs on another core beside the tree walk; both read through positional I/O.
        var trailerCheck = hasTrailer && options.VerifyTrailer
            ? Task.Run(() => SnapshotTrailer.VerifyAsync(handle, length, cancellationToken), cancellationToken)
            : null;

        SnapshotStatus status;
        try
        {
            status = Inspect(handle, dataLength, options.TotalKeySemantics, cancellationToken);
        }
        catch (Exception walkError) when (trailerCheck is not null && walkError is InvalidDataException or EndOfStreamException)
        {
            // A damaged file usually breaks both; the trailer mismatch names the root cause.
            await trailerCheck.ConfigureAwait(false);
            throw;
        }
        catch when (trailerCheck is not null)
        {
            try
            {
                await trailerCheck.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or OperationCanceledException or IOException)
            {
                // The walk's own error is the one to report.
            }

            throw;
        }

        if (trailerCheck is not null)
        {
            await trailerCheck.ConfigureAwait(false);
        }

        return status;
    }

    /// <summary>The synchronous core over the first <paramref name="dataLength"/> bytes of the file.</summary>
    internal static SnapshotStatus Inspect(SafeFileHandle handle, long dataLength, TotalKeySemantics semantics, CancellationToken cancellationToken = default)
    {
        using var file = BboltFile.Open(handle, dataLength);
        var visitor = new StatusVisitor(semantics);
        BboltWalker.Walk(file, ref visitor, cancellationToken);
        return new SnapshotStatus(visitor.Hash, visitor.Revision, visitor.TotalKey, file.Meta.Size, visitor.Version);
    }
}
