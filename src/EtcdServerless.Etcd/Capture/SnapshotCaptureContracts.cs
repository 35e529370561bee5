using EtcdServerless.Etcd.Endpoints;

namespace EtcdServerless.Etcd.Capture;

/// <summary>Knobs of <see cref="SnapshotCapture"/>.</summary>
internal sealed record SnapshotCaptureOptions
{
    /// <summary>An attempt is abandoned (and the next member tried) when no chunk arrives for this long.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>At most this many members are tried (the plan's order).</summary>
    public int MaxAttempts { get; init; } = int.MaxValue;
}

/// <summary>Callbacks that let a pipeline consume the stream while it is written to the file.</summary>
internal sealed class SnapshotCaptureHooks
{
    /// <summary>
    /// Called before each attempt. From the second call on, the previous attempt was abandoned: a consumer resets
    /// whatever it built from earlier chunks (hash, compression, uploads).
    /// </summary>
    public Func<SnapshotAttemptStart, CancellationToken, ValueTask>? OnAttemptStart { get; init; }

    /// <summary>
    /// Each chunk of file bytes, in order, after it was written to the <c>.part</c> file (db bytes, then the sha256
    /// trailer). The memory is valid only during the call. An exception aborts the capture (no retry).
    /// </summary>
    public Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? OnChunk { get; init; }

    /// <summary>Bytes received in this attempt and the expected file size (db + 32) once known.</summary>
    public Action<long, long?>? Progress { get; init; }
}

/// <summary>An attempt is about to start.</summary>
internal sealed record SnapshotAttemptStart(int Attempt, SnapshotSourceCandidate Source);

/// <summary>What one attempt did.</summary>
internal sealed record SnapshotAttempt(int Attempt, Uri Endpoint, string Member, long BytesReceived, bool Succeeded, string? Error);

/// <summary>A verified snapshot on disk, byte-identical to what <c>etcdctl snapshot save</c> writes.</summary>
internal sealed record SnapshotCaptureResult(
    string FilePath,
    SnapshotSourceCandidate Source,
    long FileSize,
    long DbSize,
    string Sha256Hex,
    string ServerStorageVersion,
    IReadOnlyList<SnapshotAttempt> Attempts,
    TimeSpan Duration);

/// <summary>No member delivered a verified snapshot. <see cref="Attempts"/> tells what each one did.</summary>
internal sealed class SnapshotCaptureException : IOException
{
    public SnapshotCaptureException(string message, IReadOnlyList<SnapshotAttempt> attempts, Exception? innerException = null)
        : base(message, innerException)
    {
        Attempts = attempts;
    }

    /// <summary>Every attempt, in order.</summary>
    public IReadOnlyList<SnapshotAttempt> Attempts { get; }
}
