using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// A staged block-blob write on <see cref="BlockBlobClient"/>: bytes go into the writer's own block buffers, full
/// blocks upload with StageBlock (at most <see cref="BlobStoreOptions.MaxBlocksInFlight"/> in flight), and
/// <see cref="CommitAsync"/> publishes them atomically with CommitBlockList under <c>If-None-Match: *</c>.
/// Memory is at most <c>BlockSize * (MaxBlocksInFlight + 1)</c>: the buffers are allocated once and recycled.
/// Uncommitted blocks are invisible to readers and listings and the service discards them on its own.
/// </summary>
/// <remarks>
/// Not <c>ArrayPool.Shared</c>: a block is rented on the writing thread and returned on whichever pool thread
/// finished its upload, where the pool caches it per thread. The next rent, on another thread, then missed it and
/// allocated again, so a 1 GB backup to Azurite held 33 MiB of stranded 4 MiB arrays instead of 12 MiB
/// (docs/benchmarks.md, "Peak RSS (issue 10)").
/// </remarks>
/// <remarks>
/// Block ids embed a random writer id so concurrent writers of the same name never overwrite each other's
/// staged blocks: whichever commits first wins, the other gets <see cref="BackupObjectExistsException"/>.
/// </remarks>
internal sealed class BlockBlobWriter : IBackupObjectWriter, IStagedUpload
{
    private readonly BlockBlobClient _client;
    private readonly BlobStoreOptions _options;
    private readonly BackupObjectWriteOptions _writeOptions;
    private readonly Func<StoredObjectInfo, CancellationToken, Task<StoredObjectInfo>> _afterCommit;
    private readonly ILogger _logger;
    private readonly string _blob;
    private readonly string _displayName;
    private readonly string _writerId = Guid.NewGuid().ToString("N");
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _abort = new();
    private readonly List<Task> _uploads = [];
    private readonly List<string> _blockIds = [];
    private readonly IncrementalHash _blobMd5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
    // Buffers whose upload finished, ready to fill again; an upload puts its buffer back before it frees its slot.
    private readonly ConcurrentQueue<byte[]> _freeBuffers = new();
    private byte[]? _buffer;
    private int _buffersAllocated;
    private int _filled;
    private long _length;
    private bool _committed;
    private bool _disposed;

    public BlockBlobWriter(BlockBlobClient client, BlobStoreOptions options, string blob, string displayName,
        BackupObjectWriteOptions writeOptions, Func<StoredObjectInfo, CancellationToken, Task<StoredObjectInfo>> afterCommit, ILogger logger)
    {
        _client = client;
        _options = options;
        _blob = blob;
        _displayName = displayName;
        _writeOptions = writeOptions;
        _afterCommit = afterCommit;
        _logger = logger;
        _slots = new SemaphoreSlim(options.MaxBlocksInFlight, options.MaxBlocksInFlight);
        Content = new StagedWriteStream(this);
    }

    /// <inheritdoc/>
    public Stream Content { get; }

    /// <summary>Block buffers this writer allocated so far; never more than <c>MaxBlocksInFlight + 1</c>.</summary>
    internal int BuffersAllocated => Volatile.Read(ref _buffersAllocated);

    /// <inheritdoc/>
    public async Task<StoredObjectInfo> CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException($"'{_displayName}' is already committed.");
        }

        if (_filled > 0)
        {
            await StageBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        await Task.WhenAll(_uploads).ConfigureAwait(false);
        var commit = new CommitBlockListOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = _writeOptions.ContentType, ContentHash = _blobMd5.GetHashAndReset() },
            Tags = _writeOptions.Tags.Count > 0 ? new Dictionary<string, string>(_writeOptions.Tags) : null,
            // Write-once: the commit fails when any blob of that name exists, so racing writers cannot both win.
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
        };
        Response<BlobContentInfo> committed;
        try
        {
            committed = await BlobErrors.CallAsync(ct => _client.CommitBlockListAsync(_blockIds, commit, ct),
                "Put Block List", _blob, _options.Description, cancellationToken).ConfigureAwait(false);
        }
        catch (BackupStoreException ex) when (ex.InnerException is RequestFailedException { Status: 409 or 412, ErrorCode: "BlobAlreadyExists" or "ConditionNotMet" })
        {
            // Only here does a failed If-None-Match mean "someone else committed this name first".
            throw new BackupObjectExistsException($"'{_displayName}' already exists; backup objects are write-once.", ex.InnerException);
        }

        _committed = true;
        _logger.BlobCommitted(_displayName, _length, _blockIds.Count);
        var info = new StoredObjectInfo(_displayName, _length, committed.Value.LastModified) { ETag = committed.Value.ETag.ToString() };
        return await _afterCommit(info, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _abort.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_uploads).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or BackupStoreException)
        {
            // Abandoned: the staged blocks are garbage the service collects.
        }

        if (!_committed)
        {
            _logger.WriteAbandoned(_displayName, _blockIds.Count);
        }

        ReturnBuffer();
        _abort.Dispose();
        _slots.Dispose();
        _blobMd5.Dispose();
    }

    bool IStagedUpload.AcceptsWrites => !_disposed && !_committed;

    long IStagedUpload.Length => _length;

    ValueTask IStagedUpload.WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => WriteAsync(buffer, cancellationToken);

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException($"'{_displayName}' is already committed.");
        }

        ThrowIfUploadFailed();
        _blobMd5.AppendData(data.Span);
        while (!data.IsEmpty)
        {
            _buffer ??= TakeBuffer();
            var take = Math.Min(data.Length, _options.BlockSize - _filled);
            data.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            _length += take;
            data = data[take..];
            if (_filled == _options.BlockSize)
            {
                await StageBufferAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task StageBufferAsync(CancellationToken cancellationToken)
    {
        // Wait for a free slot before handing the buffer off: this is what bounds memory.
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _abort.Token);
        await _slots.WaitAsync(linked.Token).ConfigureAwait(false);
        var buffer = _buffer!;
        var length = _filled;
        _buffer = null;
        _filled = 0;
        var index = _blockIds.Count;
        if (index >= 50_000)
        {
            _freeBuffers.Enqueue(buffer);
            _slots.Release();
            throw new BackupStoreException($"'{_displayName}' needs more than 50,000 blocks; raise the block size.");
        }

        var blockId = Convert.ToBase64String(Encoding.ASCII.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{_writerId}-{index:D8}")));
        _blockIds.Add(blockId);
        _uploads.RemoveAll(t => t.IsCompletedSuccessfully);
        _uploads.Add(UploadAsync(blockId, index, buffer, length));
    }

    private async Task UploadAsync(string blockId, int index, byte[] buffer, int length)
    {
        try
        {
            // A seekable view of the block, so the SDK can rewind it for a retry; the SDK adds the transactional
            // Content-MD5 and the service rejects a block that arrived corrupted.
            using var block = new MemoryStream(buffer, 0, length, writable: false);
            var stage = new BlockBlobStageBlockOptions
            {
                TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
            };
            await BlobErrors.CallAsync(ct => _client.StageBlockAsync(blockId, block, stage, ct),
                "Put Block", _blob, _options.Description, _abort.Token).ConfigureAwait(false);
            _logger.BlockStaged(index, length, _displayName);
        }
        finally
        {
            // Back in the queue before the slot is free: the writer only takes a new buffer after it got a slot for
            // the previous one, so a free slot always comes with a free buffer once all buffers exist.
            _freeBuffers.Enqueue(buffer);
            _slots.Release();
        }
    }

    private void ThrowIfUploadFailed()
    {
        foreach (var upload in _uploads)
        {
            if (upload.IsFaulted)
            {
                upload.GetAwaiter().GetResult();
            }
        }
    }

    // Only the writing thread calls this, and only while it holds no buffer: with at most MaxBlocksInFlight uploads
    // each holding one, no more than MaxBlocksInFlight + 1 buffers ever exist.
    private byte[] TakeBuffer()
    {
        if (_freeBuffers.TryDequeue(out var buffer))
        {
            return buffer;
        }

        Interlocked.Increment(ref _buffersAllocated);
        // Uninitialized: every byte is written before it is uploaded, and untouched pages of a small last block
        // never become resident.
        return GC.AllocateUninitializedArray<byte>(_options.BlockSize);
    }

    private void ReturnBuffer()
    {
        // Ciphertext only: nothing to clear; the arrays go with the writer.
        _buffer = null;
        _freeBuffers.Clear();
    }
}
