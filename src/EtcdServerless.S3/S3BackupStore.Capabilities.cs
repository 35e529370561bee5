using Amazon.S3;
using Amazon.S3.Model;

namespace EtcdServerless.S3;

// What the endpoint and bucket can do, found out once: bucket creation, the commit-lock anchor, the
// If-None-Match probe and the Object Lock configuration, plus the quiet delete of their bookkeeping objects.
internal sealed partial class S3BackupStore
{
    /// <summary>
    /// Checks the bucket (creating it when <paramref name="createBucket"/> and it is missing), then detects
    /// conditional writes and Object Lock. Runs once; writes call it themselves.
    /// </summary>
    public async Task<S3StoreCapabilities> DetectCapabilitiesAsync(bool createBucket = false, CancellationToken cancellationToken = default)
    {
        if (_capabilities is { } known)
        {
            return known;
        }

        await _initLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_capabilities is { } raced)
            {
                return raced;
            }

            if (createBucket)
            {
                _ = await CreateBucketIfMissingAsync(cancellationToken).ConfigureAwait(false);
            }

            await EnsureAnchorAsync(cancellationToken).ConfigureAwait(false);
            var conditional = await ProbeConditionalWritesAsync(cancellationToken).ConfigureAwait(false);
            var (objectLock, detail) = await ProbeObjectLockAsync(cancellationToken).ConfigureAwait(false);
            var capabilities = new S3StoreCapabilities(conditional, objectLock, detail);
            _logger.Capabilities(Description, conditional ? "If-None-Match" : "lock object", objectLock ? "enabled" : S3StoreCapabilities.NotSupported);
            if (!conditional)
            {
                _logger.ConditionalWritesNotSupported(Description);
            }

            if (!objectLock)
            {
                _logger.ObjectLockNotSupported(Description, detail);
            }

            _capabilities = capabilities;
            return capabilities;
        }
        finally
        {
            _initLock.Release();
        }
    }

    private async Task<bool> CreateBucketIfMissingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = Settings.Bucket }, cancellationToken).ConfigureAwait(false);
            _logger.BucketCreated(Settings.Bucket);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
            // Already there (ours or, for BucketAlreadyExists, someone else's: the probe below tells).
            return false;
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Creating the bucket for", Settings.Bucket, Description);
        }
    }

    // Writes a probe object, then writes it again with If-None-Match: *. A service that honours the header
    // answers 412 to the second write; one that ignores it overwrites.
    private async Task<bool> ProbeConditionalWritesAsync(CancellationToken cancellationToken)
    {
        var key = Settings.KeyPrefix + InternalFolder + "locks/probe~" + Guid.NewGuid().ToString("N");
        try
        {
            await _client.PutObjectAsync(NewProbe(key), cancellationToken).ConfigureAwait(false);
            var second = NewProbe(key);
            second.IfNoneMatch = "*";
            try
            {
                await _client.PutObjectAsync(second, cancellationToken).ConfigureAwait(false);
                return false;
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsExists(ex))
            {
                return true;
            }
            catch (AmazonS3Exception ex) when (S3Errors.IsNotImplemented(ex))
            {
                return false;
            }
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Probing", key, Description);
        }
        finally
        {
            await DeleteQuietlyAsync(key).ConfigureAwait(false);
        }
    }

    private async Task EnsureAnchorAsync(CancellationToken cancellationToken)
    {
        var key = Settings.KeyPrefix + InternalFolder + S3CommitLock.AnchorName;
        try
        {
            await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Settings.Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsNotFound(ex) && ex.ErrorCode != "NoSuchBucket")
        {
            try
            {
                await _client.PutObjectAsync(NewProbe(key), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception inner) when (S3Errors.IsTransport(inner))
            {
                throw S3Errors.Translate(inner, "Preparing", key, Description);
            }
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Preparing", key, Description);
        }
    }

    private PutObjectRequest NewProbe(string key) => new()
    {
        BucketName = Settings.Bucket,
        Key = key,
        InputStream = new MemoryStream([]),
        UseChunkEncoding = false,
    };

    private async Task<(bool Enabled, string Detail)> ProbeObjectLockAsync(CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectLockConfigurationAsync(new GetObjectLockConfigurationRequest { BucketName = Settings.Bucket }, cancellationToken)
                .ConfigureAwait(false);
            var enabled = response.ObjectLockConfiguration?.ObjectLockEnabled == Amazon.S3.ObjectLockEnabled.Enabled;
            return enabled ? (true, "enabled on the bucket") : (false, "the bucket has no Object Lock");
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "ObjectLockConfigurationNotFoundError")
        {
            return (false, "the bucket was created without Object Lock");
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsNotImplemented(ex))
        {
            return (false, "the endpoint does not implement Object Lock");
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "AccessDenied")
        {
            return (false, "not allowed to read the bucket's Object Lock configuration (s3:GetBucketObjectLockConfiguration)");
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Reading the Object Lock configuration of", Settings.Bucket, Description);
        }
    }

    internal async Task DeleteQuietlyAsync(string key)
    {
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Settings.Bucket, Key = key }).ConfigureAwait(false);
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            // Bookkeeping only: a leftover probe or lock is never listed and a stale lock is ignored.
        }
    }
}
