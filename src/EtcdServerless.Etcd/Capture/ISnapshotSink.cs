using EtcdServerless.Etcd.Endpoints;

namespace EtcdServerless.Etcd.Capture;

/// <summary>
/// Where one attempt's snapshot bytes go (a file, a seal-and-upload pipeline, ...). <see cref="SnapshotCapture"/>
/// opens one sink per attempt, feeds it every chunk in order, and either completes it (the stream ended and the
/// sha256 trailer matched) or disposes it uncompleted: disposing an uncompleted sink must discard what it wrote.
/// </summary>
/// <typeparam name="TResult">What a completed sink produced.</typeparam>
internal interface ISnapshotSink<TResult> : IAsyncDisposable
{
    /// <summary>
    /// The next chunk of the file (database bytes, then the 32-byte trailer). The memory stays valid after the
    /// call. An exception ends the capture: a local fault would repeat on every member.
    /// </summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken);

    /// <summary>
    /// The stream ended and its trailer was verified. <see cref="InvalidDataException"/> or
    /// <see cref="EndOfStreamException"/> reject this member's snapshot (the next member is tried); any other
    /// exception ends the capture.
    /// </summary>
    ValueTask<TResult> CompleteAsync(SnapshotStreamSummary summary, CancellationToken cancellationToken);
}

/// <summary>A stream that ended with a verified trailer.</summary>
/// <param name="Source">The member it came from.</param>
/// <param name="Digest">Database size and SHA-256 (equal to the trailer).</param>
/// <param name="StorageVersion">The storage version the member announced ("" before etcd 3.6).</param>
internal sealed record SnapshotStreamSummary(SnapshotSourceCandidate Source, SnapshotDigest Digest, string StorageVersion);

/// <summary>The outcome of <see cref="SnapshotCapture.StreamAsync{TResult}"/>.</summary>
/// <param name="Value">What the successful attempt's sink produced.</param>
/// <param name="Summary">The verified stream.</param>
/// <param name="Attempts">Every attempt, in order (the last one succeeded).</param>
/// <param name="Duration">From the first attempt to the sink's completion.</param>
internal sealed record SnapshotStreamResult<TResult>(TResult Value, SnapshotStreamSummary Summary, IReadOnlyList<SnapshotAttempt> Attempts, TimeSpan Duration);
