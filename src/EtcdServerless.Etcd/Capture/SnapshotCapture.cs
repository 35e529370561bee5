using System.Threading.Channels;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Etcd.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Etcd.Capture;

/// <summary>
/// The one snapshot capture path (<c>snapshot save</c> and the backup activity): streams
/// <c>Maintenance/Snapshot</c> from the first member of a plan into a sink, verifying the sha256 trailer on the
/// fly with bounded memory. A broken, stalled, truncated or corrupt stream (or a sink that rejects the snapshot
/// as invalid) abandons the attempt, disposes its sink uncompleted and moves on to the next member.
/// <see cref="CaptureAsync(SnapshotSourcePlan, string, SnapshotCaptureHooks?, CancellationToken)"/> is the file
/// sink: <c>FILE.part</c> (0600), fsync and rename on success (as etcdctl does, so the file is byte-identical and
/// restorable by etcd's tools); nothing is left behind on failure.
/// </summary>
internal sealed class SnapshotCapture
{
    // Chunks read ahead of the sink (etcd sends 32 KiB chunks: about half a MiB in flight).
    private const int QueueDepth = 16;

    private readonly EtcdClientOptions _template;
    private readonly SnapshotCaptureOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <param name="template">TLS material and credentials used for every member (its Endpoint is ignored).</param>
    /// <param name="options">Idle timeout and attempt limit.</param>
    /// <param name="logger">Receives one line per attempt.</param>
    /// <param name="timeProvider">Clock for the idle timeout and durations.</param>
    public SnapshotCapture(EtcdClientOptions template, SnapshotCaptureOptions? options = null, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        _template = template;
        _options = options ?? new SnapshotCaptureOptions();
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Captures to <paramref name="filePath"/>, teeing chunks to <paramref name="onChunk"/>.</summary>
    public Task<SnapshotCaptureResult> CaptureAsync(
        SnapshotSourcePlan plan,
        string filePath,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? onChunk,
        Action<long, long?>? progress,
        CancellationToken cancellationToken = default) =>
        CaptureAsync(plan, filePath, new SnapshotCaptureHooks { OnChunk = onChunk, Progress = progress }, cancellationToken);

    /// <summary>Captures to <paramref name="filePath"/>, trying the plan's members in order.</summary>
    /// <exception cref="SnapshotCaptureException">No member delivered a verified snapshot.</exception>
    public async Task<SnapshotCaptureResult> CaptureAsync(
        SnapshotSourcePlan plan,
        string filePath,
        SnapshotCaptureHooks? hooks = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentException.ThrowIfNullOrWhiteSpace(filePath);
        hooks ??= new SnapshotCaptureHooks();
        filePath = Path.GetFullPath(filePath);
        var result = await StreamAsync<bool>(
            plan,
            async (start, ct) =>
            {
                if (hooks.OnAttemptStart is { } onStart)
                {
                    await onStart(start, ct).ConfigureAwait(false);
                }

                return FileSnapshotSink.Open(filePath, hooks.OnChunk);
            },
            hooks.Progress,
            cancellationToken).ConfigureAwait(false);
        var summary = result.Summary;
        return new SnapshotCaptureResult(filePath, summary.Source, summary.Digest.FileSize, summary.Digest.DbSize, summary.Digest.Sha256Hex,
            summary.StorageVersion, result.Attempts, result.Duration);
    }

    /// <summary>
    /// Streams the plan's members in order into sinks from <paramref name="openSink"/> (one per attempt) until one
    /// delivers a snapshot whose trailer verifies and whose sink completes.
    /// </summary>
    /// <param name="plan">Ranked members.</param>
    /// <param name="openSink">Opens the sink of an attempt; from the second attempt on, the previous one was abandoned.</param>
    /// <param name="progress">Bytes received in this attempt and the expected file size (db + 32) once known.</param>
    /// <param name="cancellationToken">Stops the capture.</param>
    /// <exception cref="SnapshotCaptureException">No member delivered a verified snapshot.</exception>
    /// <exception cref="EtcdAuthenticationException">Credentials refused (not retried: every member would refuse).</exception>
    /// <exception cref="EtcdPermissionDeniedException">The user may not take snapshots (not retried).</exception>
    public async Task<SnapshotStreamResult<TResult>> StreamAsync<TResult>(
        SnapshotSourcePlan plan,
        Func<SnapshotAttemptStart, CancellationToken, ValueTask<ISnapshotSink<TResult>>> openSink,
        Action<long, long?>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(openSink);
        if (plan.Ranked.Count == 0)
        {
            throw new SnapshotCaptureException($"No etcd member can serve a snapshot: {plan.DescribeRejections()}", []);
        }

        var started = _time.GetTimestamp();
        var attempts = new List<SnapshotAttempt>();
        Exception? last = null;
        foreach (var source in plan.Ranked.Take(_options.MaxAttempts))
        {
            var number = attempts.Count + 1;
            _logger.CaptureAttempt(number, source.Name, source.Endpoint.ToString());
            var sink = await openSink(new SnapshotAttemptStart(number, source), cancellationToken).ConfigureAwait(false);
            var progressOfAttempt = new AttemptProgress(progress);
            Exception? error;
            await using (sink.ConfigureAwait(false))
            {
                try
                {
                    var summary = await StreamOnceAsync(source, sink, progressOfAttempt, cancellationToken).ConfigureAwait(false);
                    var value = await CompleteAsync(sink, summary, cancellationToken).ConfigureAwait(false);
                    attempts.Add(new SnapshotAttempt(number, source.Endpoint, source.Name, progressOfAttempt.Bytes, true, null));
                    _logger.CaptureCompleted(source.Endpoint.ToString(), summary.Digest.FileSize, summary.Digest.Sha256Hex);
                    return new SnapshotStreamResult<TResult>(value, summary, attempts, _time.GetElapsedTime(started));
                }
                catch (SourceFailure failure)
                {
                    error = failure.InnerException!;
                }
            }

            attempts.Add(new SnapshotAttempt(number, source.Endpoint, source.Name, progressOfAttempt.Bytes, false, error.Message));
            _logger.CaptureAttemptFailed(error, number, source.Endpoint.ToString(), progressOfAttempt.Bytes);
            last = error;
        }

        var summaryText = string.Join("; ", attempts.Select(a => $"{a.Member} ({a.Endpoint}): {a.Error}"));
        throw new SnapshotCaptureException($"Snapshot failed on every member tried: {summaryText}", attempts, last);
    }

    private static async Task<TResult> CompleteAsync<TResult>(ISnapshotSink<TResult> sink, SnapshotStreamSummary summary, CancellationToken cancellationToken)
    {
        try
        {
            return await sink.CompleteAsync(summary, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException && !cancellationToken.IsCancellationRequested)
        {
            // The sink's own checks (e.g. the bbolt structure) rejected this member's snapshot.
            throw new SourceFailure(ex);
        }
    }

    /// <summary>
    /// One attempt: a reader task pulls messages off the member's stream into a small bounded queue while this
    /// task verifies and feeds the sink, so network receive overlaps disk, hashing and sealing. Each queued chunk
    /// is the parsed message's own memory (no copy), so memory is bounded by the queue depth.
    /// </summary>
    private async Task<SnapshotStreamSummary> StreamOnceAsync<TResult>(
        SnapshotSourceCandidate source, ISnapshotSink<TResult> sink, AttemptProgress progress, CancellationToken cancellationToken)
    {
        var queue = Channel.CreateBounded<EtcdSnapshotChunk>(new BoundedChannelOptions(QueueDepth) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = ReadStreamAsync(source, queue.Writer, stop.Token, cancellationToken);
        try
        {
            using var verifier = new SnapshotTrailerVerifier();
            long? expectedDb = null;
            var storageVersion = "";
            await foreach (var chunk in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (expectedDb is null && chunk.Blob.Length > 0)
                {
                    // remaining_bytes counts db bytes still to come after this chunk; the trailer is extra.
                    expectedDb = (long)chunk.RemainingBytes + chunk.Blob.Length;
                    storageVersion = chunk.Version;
                }

                verifier.Append(chunk.Blob.Span);
                await sink.WriteAsync(chunk.Blob, cancellationToken).ConfigureAwait(false);
                progress.Add(chunk.Blob.Length, expectedDb + SnapshotTrailerVerifier.TrailerSize);
            }

            // The queue completes when the reader ends; a reader failure is rethrown here.
            await reader.ConfigureAwait(false);
            SnapshotDigest digest;
            try
            {
                digest = verifier.Complete();
                if (expectedDb is { } expected && digest.DbSize != expected)
                {
                    throw new EndOfStreamException($"Snapshot stream delivered {digest.DbSize} database bytes, the member announced {expected}.");
                }
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                throw new SourceFailure(ex);
            }

            return new SnapshotStreamSummary(source, digest, storageVersion);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // Already reported (or superseded by the consumer's own failure).
            }
        }
    }

    /// <summary>
    /// Reads the member's stream into <paramref name="queue"/>. The idle timeout runs only while waiting for
    /// the member (not while the queue is full because the sink is slow). Failures of the member come out as
    /// <see cref="SourceFailure"/>; auth problems and the caller's cancellation as themselves.
    /// </summary>
    private async Task ReadStreamAsync(
        SnapshotSourceCandidate source, ChannelWriter<EtcdSnapshotChunk> queue, CancellationToken stop, CancellationToken cancellationToken)
    {
        await Task.Yield();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Exception? failure = null;
        try
        {
            using var client = new EtcdClient(_template.ForEndpoint(source.Endpoint));
            idle.CancelAfter(_options.IdleTimeout);
            var chunks = client.SnapshotAsync(idle.Token).GetAsyncEnumerator(idle.Token);
            await using (chunks.ConfigureAwait(false))
            {
                while (await chunks.MoveNextAsync().ConfigureAwait(false))
                {
                    idle.CancelAfter(Timeout.InfiniteTimeSpan);
                    await queue.WriteAsync(chunks.Current, stop).ConfigureAwait(false);
                    idle.CancelAfter(_options.IdleTimeout);
                }
            }
        }
        catch (Exception ex) when (!stop.IsCancellationRequested && idle.IsCancellationRequested && ex is OperationCanceledException or EtcdException)
        {
            failure = new SourceFailure(new EtcdDeadlineExceededException(
                $"no snapshot data for {_options.IdleTimeout.TotalSeconds:0.#} s", source.Endpoint.ToString(), ex));
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsSourceFault(ex))
        {
            failure = new SourceFailure(ex);
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            queue.TryComplete(failure);
        }

        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>
    /// A member's stream failing (transport, truncation, corrupt data) is retried elsewhere; auth problems are
    /// not: another member would refuse the same way.
    /// </summary>
    private static bool IsSourceFault(Exception ex) => ex switch
    {
        EtcdAuthenticationException or EtcdPermissionDeniedException => false,
        EtcdException or InvalidDataException or EndOfStreamException => true,
        _ => false,
    };

    /// <summary>Counts one attempt's bytes and forwards them to the caller's progress callback.</summary>
    private sealed class AttemptProgress(Action<long, long?>? report)
    {
        public long Bytes { get; private set; }

        public void Add(int count, long? expected)
        {
            Bytes += count;
            report?.Invoke(Bytes, expected);
        }
    }

    /// <summary>The member could not deliver a verified snapshot; the next one may.</summary>
    private sealed class SourceFailure(Exception innerException) : Exception(innerException.Message, innerException);

    /// <summary>The <c>snapshot save</c> sink: FILE.part, then fsync and rename; deleted unless completed.</summary>
    private sealed class FileSnapshotSink : ISnapshotSink<bool>
    {
        private readonly string _filePath;
        private readonly string _partPath;
        private readonly FileStream _file;
        private readonly Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? _onChunk;
        private bool _completed;

        private FileSnapshotSink(string filePath, FileStream file, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? onChunk)
        {
            _filePath = filePath;
            _partPath = file.Name;
            _file = file;
            _onChunk = onChunk;
        }

        public static FileSnapshotSink Open(string filePath, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask>? onChunk)
        {
            var partPath = filePath + ".part";
            DeleteQuietly(partPath);
            return new FileSnapshotSink(filePath, OpenPart(partPath), onChunk);
        }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
        {
            await _file.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (_onChunk is { } onChunk)
            {
                await onChunk(chunk, cancellationToken).ConfigureAwait(false);
            }
        }

        public async ValueTask<bool> CompleteAsync(SnapshotStreamSummary summary, CancellationToken cancellationToken)
        {
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync().ConfigureAwait(false);
            File.Move(_partPath, _filePath, overwrite: true);
            _completed = true;
            return true;
        }

        public async ValueTask DisposeAsync()
        {
            await _file.DisposeAsync().ConfigureAwait(false);
            if (!_completed)
            {
                DeleteQuietly(_partPath);
            }
        }

        private static FileStream OpenPart(string path)
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
            };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            return new FileStream(path, options);
        }

        private static void DeleteQuietly(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
