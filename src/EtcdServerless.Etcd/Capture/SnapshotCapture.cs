using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Etcd.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Etcd.Capture;

/// <summary>
/// Streams <c>Maintenance/Snapshot</c> from the first member of a plan into <c>FILE.part</c> (0600), verifying
/// the sha256 trailer on the fly with bounded memory; on success fsyncs and renames to FILE (as etcdctl does, so
/// the file is byte-identical and restorable by etcd's tools). A broken, stalled, truncated or corrupt stream
/// removes the part file and moves on to the next member. Nothing is left behind on failure.
/// </summary>
internal sealed class SnapshotCapture
{
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
            if (hooks.OnAttemptStart is { } onStart)
            {
                await onStart(new SnapshotAttemptStart(number, source), cancellationToken).ConfigureAwait(false);
            }

            var outcome = await TryOnceAsync(source, filePath, hooks, cancellationToken).ConfigureAwait(false);
            attempts.Add(new SnapshotAttempt(number, source.Endpoint, source.Name, outcome.Bytes, outcome.Error is null, outcome.Error?.Message));
            if (outcome.Error is null)
            {
                var digest = outcome.Digest!;
                _logger.CaptureCompleted(source.Endpoint.ToString(), digest.FileSize, digest.Sha256Hex);
                return new SnapshotCaptureResult(filePath, source, digest.FileSize, digest.DbSize, digest.Sha256Hex,
                    outcome.StorageVersion, attempts, _time.GetElapsedTime(started));
            }

            _logger.CaptureAttemptFailed(outcome.Error, number, source.Endpoint.ToString(), outcome.Bytes);
            last = outcome.Error;
        }

        var summary = string.Join("; ", attempts.Select(a => $"{a.Member} ({a.Endpoint}): {a.Error}"));
        throw new SnapshotCaptureException($"Snapshot failed on every member tried: {summary}", attempts, last);
    }

    private async Task<Outcome> TryOnceAsync(SnapshotSourceCandidate source, string filePath, SnapshotCaptureHooks hooks, CancellationToken cancellationToken)
    {
        var partPath = filePath + ".part";
        long bytes = 0;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            DeleteQuietly(partPath);
            using var client = new EtcdClient(_template.ForEndpoint(source.Endpoint));
            using var verifier = new SnapshotTrailerVerifier();
            long? expectedDb = null;
            var storageVersion = "";
            var file = OpenPart(partPath);
            await using (file.ConfigureAwait(false))
            {
                idle.CancelAfter(_options.IdleTimeout);
                await foreach (var chunk in client.SnapshotAsync(idle.Token).ConfigureAwait(false))
                {
                    idle.CancelAfter(_options.IdleTimeout);
                    if (expectedDb is null && chunk.Blob.Length > 0)
                    {
                        // remaining_bytes counts db bytes still to come after this chunk; the trailer is extra.
                        expectedDb = (long)chunk.RemainingBytes + chunk.Blob.Length;
                        storageVersion = chunk.Version;
                    }

                    verifier.Append(chunk.Blob.Span);
                    await file.WriteAsync(chunk.Blob, cancellationToken).ConfigureAwait(false);
                    bytes += chunk.Blob.Length;
                    if (hooks.OnChunk is { } onChunk)
                    {
                        await onChunk(chunk.Blob, cancellationToken).ConfigureAwait(false);
                    }

                    hooks.Progress?.Invoke(bytes, expectedDb + SnapshotTrailerVerifier.TrailerSize);
                }

                var digest = verifier.Complete();
                if (expectedDb is { } expected && digest.DbSize != expected)
                {
                    throw new EndOfStreamException($"Snapshot stream delivered {digest.DbSize} database bytes, the member announced {expected}.");
                }

                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                File.Move(partPath, filePath, overwrite: true);
                return new Outcome(bytes, digest, storageVersion, null);
            }
        }
        catch (Exception ex) when (IsRetryable(ex, idle, cancellationToken))
        {
            DeleteQuietly(partPath);
            var error = ex is OperationCanceledException
                ? new EtcdDeadlineExceededException($"no snapshot data for {_options.IdleTimeout.TotalSeconds:0.#} s", source.Endpoint.ToString(), ex)
                : ex;
            return new Outcome(bytes, null, "", error);
        }
        catch
        {
            DeleteQuietly(partPath);
            throw;
        }
    }

    /// <summary>
    /// A member's stream failing (transport, stall, truncation, corrupt data) is retried elsewhere; local failures
    /// (disk, the consumer's callback), auth problems and the caller's cancellation are not: another member
    /// would fail the same way.
    /// </summary>
    private static bool IsRetryable(Exception ex, CancellationTokenSource idle, CancellationToken cancellationToken) => ex switch
    {
        _ when cancellationToken.IsCancellationRequested => false,
        OperationCanceledException => idle.IsCancellationRequested,
        EtcdAuthenticationException or EtcdPermissionDeniedException => false,
        EtcdException or InvalidDataException or EndOfStreamException => true,
        _ => false,
    };

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

    private sealed record Outcome(long Bytes, SnapshotDigest? Digest, string StorageVersion, Exception? Error);
}
