using System.Buffers;
using Amazon.S3;
using Amazon.S3.Model;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.S3;

/// <summary>
/// One staged write: bytes fill a part buffer; a full buffer becomes a multipart part. An object smaller than
/// one part goes up as a single conditional <c>PutObject</c> at commit; a larger one is completed with a
/// conditional <c>CompleteMultipartUpload</c>. Memory: the part being filled plus at most
/// <see cref="MaxPartsInFlight"/> parts uploading, whatever the object size.
/// </summary>
internal sealed class S3ObjectWriter : IBackupObjectWriter, IStagedUpload
{
    private readonly S3BackupStore _store;
    private readonly string _name;
    private readonly string _key;
    private readonly BackupObjectWriteOptions _options;
    private readonly DateTimeOffset _retainUntil;
    private readonly S3StoreCapabilities _capabilities;
    /// <summary>Parts uploading while the next one fills (bounded so memory is too).</summary>
    internal const int MaxPartsInFlight = 2;

    private readonly List<PartETag> _parts = [];
    private readonly Queue<Task> _inFlight = new();
    private int _partsStarted;
    private byte[]? _buffer;
    private int _filled;
    private long _length;
    private string? _uploadId;
    private bool _committed;
    private bool _disposed;

    public S3ObjectWriter(S3BackupStore store, string name, BackupObjectWriteOptions options, DateTimeOffset retainUntil, S3StoreCapabilities capabilities)
    {
        _store = store;
        _name = name;
        _key = store.Key(name);
        _options = options;
        _retainUntil = retainUntil;
        _capabilities = capabilities;
        _buffer = ArrayPool<byte>.Shared.Rent(store.Settings.PartSize);
        Content = new StagedWriteStream(this);
    }

    public Stream Content { get; }

    private int PartSize => _store.Settings.PartSize;

    public async Task<StoredObjectInfo> CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The write is already committed.");
        }

        try
        {
            if (_uploadId is null)
            {
                var put = NewPut();
                await CommitWithAsync(() => _store.Client.PutObjectAsync(put, cancellationToken), put, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (_filled > 0)
                {
                    await UploadPartAsync(cancellationToken).ConfigureAwait(false);
                }

                while (_inFlight.Count > 0)
                {
                    await _inFlight.Dequeue().ConfigureAwait(false);
                }

                _parts.Sort((a, b) => a.PartNumber.GetValueOrDefault().CompareTo(b.PartNumber.GetValueOrDefault()));

                var complete = new CompleteMultipartUploadRequest
                {
                    BucketName = _store.Settings.Bucket,
                    Key = _key,
                    UploadId = _uploadId,
                    PartETags = _parts,
                };
                await CommitWithAsync(() => _store.Client.CompleteMultipartUploadAsync(complete, cancellationToken), complete, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Committing", _name, _store.Description);
        }

        _committed = true;
        _store.Logger.Committed(_key, _length, Math.Max(1, _partsStarted));

        // Always written (even empty): some servers (s3rver) keep a deleted predecessor's tags for the name.
        await _store.SetTagsAsync(_name, _options.Tags, cancellationToken).ConfigureAwait(false);

        return await _store.GetInfoAsync(_name, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupStoreException($"Object '{_name}' vanished from {_store.Description} right after its commit.");
    }

    // With conditional writes the header makes the service arbitrate; without, the lock object does.
    private async Task CommitWithAsync<TResponse>(Func<Task<TResponse>> send, object request, CancellationToken cancellationToken)
    {
        if (_capabilities.ConditionalWrites)
        {
            switch (request)
            {
                case PutObjectRequest put:
                    put.IfNoneMatch = "*";
                    break;
                case CompleteMultipartUploadRequest complete:
                    complete.IfNoneMatch = "*";
                    break;
            }

            await send().ConfigureAwait(false);
            return;
        }

        await new S3CommitLock(_store, _name).RunAsync(send, cancellationToken).ConfigureAwait(false);
    }

    private PutObjectRequest NewPut()
    {
        var put = new PutObjectRequest
        {
            BucketName = _store.Settings.Bucket,
            Key = _key,
            ContentType = _options.ContentType,
            InputStream = new MemoryStream(_buffer!, 0, _filled, writable: false),
            AutoCloseStream = true,

            // Buffered and seekable: sign the payload hash instead of aws-chunked framing, which not every
            // S3-compatible server decodes.
            UseChunkEncoding = false,
        };
        S3BackupStore.AddRetention(put.Metadata, _retainUntil);
        ApplyEncryptionAndLock(
            (m, k) => { put.ServerSideEncryptionMethod = m; put.ServerSideEncryptionKeyManagementServiceKeyId = k; },
            (mode, until) => { put.ObjectLockMode = mode; put.ObjectLockRetainUntilDate = until; });
        return put;
    }

    private void ApplyEncryptionAndLock(Action<ServerSideEncryptionMethod, string?> encryption, Action<ObjectLockMode, DateTime> objectLock)
    {
        var settings = _store.Settings;
        if (settings.ServerSideEncryption is { } method)
        {
            encryption(method, method == ServerSideEncryptionMethod.AWSKMS ? settings.KmsKeyId : null);
        }

        if (_capabilities.ObjectLock)
        {
            objectLock(settings.ObjectLockMode, _retainUntil.UtcDateTime);
        }
    }

    bool IStagedUpload.AcceptsWrites => !_disposed && !_committed;

    long IStagedUpload.Length => _length;

    ValueTask IStagedUpload.WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => WriteAsync(buffer, cancellationToken);

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The write is already committed.");
        }

        while (data.Length > 0)
        {
            var take = Math.Min(data.Length, PartSize - _filled);
            data.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            _filled += take;
            _length += take;
            data = data[take..];
            if (_filled == PartSize)
            {
                await UploadPartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // Hands the filled buffer to an upload task and continues with a fresh one; waits for the oldest
    // upload first when MaxPartsInFlight are already running.
    private async Task UploadPartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_uploadId is null)
            {
                var initiate = new InitiateMultipartUploadRequest
                {
                    BucketName = _store.Settings.Bucket,
                    Key = _key,
                    ContentType = _options.ContentType,
                };
                S3BackupStore.AddRetention(initiate.Metadata, _retainUntil);
                ApplyEncryptionAndLock(
                    (m, k) => { initiate.ServerSideEncryptionMethod = m; initiate.ServerSideEncryptionKeyManagementServiceKeyId = k; },
                    (mode, until) => { initiate.ObjectLockMode = mode; initiate.ObjectLockRetainUntilDate = until; });
                var started = await _store.Client.InitiateMultipartUploadAsync(initiate, cancellationToken).ConfigureAwait(false);
                _uploadId = started.UploadId;
            }

            while (_inFlight.Count >= MaxPartsInFlight)
            {
                await _inFlight.Dequeue().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Uploading a part of", _name, _store.Description);
        }

        var buffer = _buffer!;
        var filled = _filled;
        var partNumber = ++_partsStarted;
        _buffer = ArrayPool<byte>.Shared.Rent(PartSize);
        _filled = 0;
        _inFlight.Enqueue(SendPartAsync(buffer, filled, partNumber, _uploadId, cancellationToken));
    }

    private async Task SendPartAsync(byte[] buffer, int length, int partNumber, string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _store.Client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _store.Settings.Bucket,
                Key = _key,
                UploadId = uploadId,
                PartNumber = partNumber,
                InputStream = new MemoryStream(buffer, 0, length, writable: false),
                PartSize = length,
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            lock (_parts)
            {
                _parts.Add(new PartETag(partNumber, response.ETag));
            }

            _store.Logger.PartUploaded(partNumber, length, _key);
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Uploading a part of", _name, _store.Description);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        while (_inFlight.Count > 0)
        {
            try
            {
                await _inFlight.Dequeue().ConfigureAwait(false);
            }
            catch (BackupStoreException)
            {
                // Abandoned anyway; the abort below discards whatever parts arrived.
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_uploadId is not null && !_committed)
        {
            try
            {
                await _store.Client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest
                {
                    BucketName = _store.Settings.Bucket,
                    Key = _key,
                    UploadId = _uploadId,
                }).ConfigureAwait(false);
            }
            catch (Exception ex) when (S3Errors.IsTransport(ex))
            {
                _store.Logger.AbortFailed(ex, _key);
            }
        }
    }
}
