using System.Globalization;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// A forward-only read stream over a blob range that fetches fixed-size ranges on demand, keeping up to
/// <see cref="BlobStoreOptions.MaxConcurrency"/> ranges prefetched in parallel. Memory is bounded by
/// <c>ReadRangeSize * MaxConcurrency</c>. Every range is pinned to the ETag seen when the stream opened, and
/// ranges of at most 4 MiB are checked against the service's transactional MD5 by the SDK.
/// </summary>
internal sealed class RangedBlobReadStream : Stream
{
    private const int MaxValidatedRange = 4 * 1024 * 1024;

    private readonly BlobBaseClient _client;
    private readonly string _blob;
    private readonly string _storeDescription;
    private readonly ETag? _etag;
    private readonly long _end;
    private readonly int _rangeSize;
    private readonly int _prefetch;
    private readonly Queue<Task<ReadOnlyMemory<byte>>> _pending = new();
    private readonly CancellationTokenSource _dispose = new();
    private long _nextFetch;
    private long _position;
    private ReadOnlyMemory<byte> _current;
    private bool _disposed;

    public RangedBlobReadStream(BlobBaseClient client, string blob, string storeDescription, ETag? etag, long offset, long length, int rangeSize, int prefetch)
    {
        _client = client;
        _blob = blob;
        _storeDescription = storeDescription;
        _etag = etag;
        _end = offset + length;
        _rangeSize = rangeSize;
        _prefetch = Math.Max(1, prefetch);
        _nextFetch = offset;
        _position = 0;
        Length = length;
    }

    public override bool CanRead => !_disposed;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length { get; }

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // Synchronous readers block on the network; prefer ReadAsync.
        var rented = new byte[buffer.Length];
        var read = ReadAsync(rented.AsMemory(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        rented.AsSpan(0, read).CopyTo(buffer);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_current.IsEmpty)
        {
            Fill();
            if (_pending.Count == 0)
            {
                return 0;
            }

            _current = await _pending.Dequeue().WaitAsync(cancellationToken).ConfigureAwait(false);
            Fill();
        }

        var n = Math.Min(buffer.Length, _current.Length);
        _current.Span[..n].CopyTo(buffer.Span);
        _current = _current[n..];
        _position += n;
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
        if (disposing && !_disposed)
        {
            _disposed = true;
            _dispose.Cancel();
            foreach (var task in _pending)
            {
                // Observe abandoned prefetches so their failures are not reported as unobserved.
                _ = task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            _pending.Clear();
            _dispose.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Fill()
    {
        while (_pending.Count < _prefetch && _nextFetch < _end)
        {
            var count = (int)Math.Min(_rangeSize, _end - _nextFetch);
            _pending.Enqueue(GetRangeAsync(_nextFetch, count, _dispose.Token));
            _nextFetch += count;
        }
    }

    private async Task<ReadOnlyMemory<byte>> GetRangeAsync(long offset, int count, CancellationToken cancellationToken)
    {
        var options = new BlobDownloadOptions
        {
            Range = new HttpRange(offset, count),
            // A blob replaced under the same name must not mix into this read: the service answers 412 instead.
            Conditions = _etag is { } etag ? new BlobRequestConditions { IfMatch = etag } : null,
            TransferValidation = count <= MaxValidatedRange
                ? new DownloadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5, AutoValidateChecksum = true }
                : null,
        };
        var content = await BlobErrors.CallAsync(ct => _client.DownloadContentAsync(options, ct), "Get Blob", _blob, _storeDescription, cancellationToken)
            .ConfigureAwait(false);
        var data = content.Value.Content.ToMemory();
        if (data.Length != count)
        {
            throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture,
                $"Get Blob '{_blob}' returned {data.Length} bytes for a {count}-byte range at offset {offset}."));
        }

        return data;
    }
}
