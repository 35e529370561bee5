using System.Globalization;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.S3;

/// <summary>
/// An <see cref="IBackupStore"/> on an S3 bucket (AWS or an S3-compatible server) under a key prefix.
/// </summary>
/// <remarks>
/// <para>Write-once: a commit is a <c>PutObject</c> or <c>CompleteMultipartUpload</c> with
/// <c>If-None-Match: *</c>, so of two racing writers the service lets exactly one win. Endpoints that ignore
/// that header (detected once, by writing a probe twice) get <see cref="S3CommitLock"/> instead, a lock
/// object protocol that is correct on a strongly consistent endpoint.</para>
/// <para>Retention: the retain-until time is stored in the object's metadata (immutable once written) and
/// enforced by <see cref="DeleteAsync"/>. Where the bucket has Object Lock, the same time is also set as the
/// object's Object Lock retention so the service itself refuses deletion; where it has not, that is
/// reported (<see cref="Capabilities"/>, a warning) and a write asking for
/// <see cref="BackupObjectWriteOptions.RequireImmutability"/> fails.</para>
/// <para>Large objects go up as a multipart upload of <see cref="S3StoreSettings.PartSize"/> parts, one part
/// buffered at a time. Parts of an abandoned upload are aborted (or left to a lifecycle rule).</para>
/// </remarks>
internal sealed partial class S3BackupStore : IBackupStore, IDisposable
{
    private const string RetainUntilMetadata = "etcd-retain-until";
    private const int MaxTags = 10;

    // Bookkeeping objects (probe, commit locks) live under a segment starting with '.', which no object name
    // may have, so they are never listed as objects.
    internal const string InternalFolder = ".etcd-backup/";

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private S3StoreCapabilities? _capabilities;

    public S3BackupStore(IAmazonS3 client, S3StoreSettings settings, TimeProvider? timeProvider = null, ILogger? logger = null, bool ownsClient = true)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _client = client;
        _ownsClient = ownsClient;
        Settings = settings;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Bucket, prefix and write settings.</summary>
    public S3StoreSettings Settings { get; }

    /// <inheritdoc/>
    public string Description => $"s3://{Settings.Bucket}/{Settings.KeyPrefix}";

    /// <summary>What the endpoint and bucket support, once <see cref="DetectCapabilitiesAsync"/> (or any write) ran.</summary>
    public S3StoreCapabilities? Capabilities => _capabilities;

    internal IAmazonS3 Client => _client;

    internal ILogger Logger => _logger;

    internal string Key(string name) => Settings.KeyPrefix + name;

    /// <inheritdoc/>
    /// <remarks>
    /// Creates the bucket when it is missing (without Object Lock: that can only be chosen at creation, so a
    /// bucket meant to have it is created by its owner), then reports Object Lock and conditional writes.
    /// </remarks>
    public async Task<StoreInitResult> InitializeAsync(CancellationToken cancellationToken = default)
    {
        var created = await CreateBucketIfMissingAsync(cancellationToken).ConfigureAwait(false);
        var capabilities = await DetectCapabilitiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var warnings = new List<string>();
        if (!capabilities.ObjectLock)
        {
            warnings.Add($"Object Lock {S3StoreCapabilities.NotSupported} ({capabilities.ObjectLockDetail}): retention is enforced by this tool only, not by the bucket");
        }

        if (!capabilities.ConditionalWrites)
        {
            warnings.Add("the endpoint ignores If-None-Match on writes: commits use a lock object (safe only on a strongly consistent endpoint)");
        }

        var immutability = capabilities.ObjectLock
            ? $"Object Lock enabled on the bucket; each object is retained in {Settings.ObjectLockMode.Value} mode"
            : $"Object Lock {S3StoreCapabilities.NotSupported}";
        return new StoreInitResult(Description, created, immutability, capabilities.ObjectLock) { Warnings = warnings };
    }

    /// <inheritdoc/>
    public async Task<IBackupObjectWriter> OpenWriteAsync(string name, BackupObjectWriteOptions options, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        ArgumentNullException.ThrowIfNull(options);
        ValidateTags(options.Tags);
        var capabilities = await DetectCapabilitiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (options.RequireImmutability && !capabilities.ObjectLock)
        {
            throw new BackupStoreException(
                $"Immutability is required but {Description} cannot enforce it: Object Lock {S3StoreCapabilities.NotSupported} ({capabilities.ObjectLockDetail}).");
        }

        // Fail before uploading a whole snapshot only to lose at commit.
        if (await GetInfoAsync(name, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new BackupObjectExistsException($"Object '{name}' already exists in {Description} (write-once store).");
        }

        var retainUntil = options.RetainUntil ?? _timeProvider.GetUtcNow() + Settings.DefaultRetention;
        return new S3ObjectWriter(this, name, options, retainUntil, capabilities);
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Length cannot be negative.");
        }

        if (length == 0)
        {
            _ = await GetInfoAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
            return Stream.Null;
        }

        var request = new GetObjectRequest { BucketName = Settings.Bucket, Key = Key(name) };
        if (offset > 0 || length is not null)
        {
            // An HTTP range is inclusive at both ends; an end past the object is clamped by the service.
            request.ByteRange = length is { } n ? new ByteRange(offset, offset + n - 1) : new ByteRange($"bytes={offset.ToString(CultureInfo.InvariantCulture)}-");
        }

        try
        {
            var response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
            return new S3ResponseStream(response);
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "InvalidRange")
        {
            // Offset at or past the end: an empty read, as from a file, provided the object exists.
            _ = await GetInfoAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.", ex);
            return Stream.Null;
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Reading", name, Description);
        }
    }

    /// <inheritdoc/>
    public async Task<StoredObjectInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Settings.Bucket, Key = Key(name) }, cancellationToken)
                .ConfigureAwait(false);
            return Describe(name, head);
        }
        catch (AmazonS3Exception ex) when (S3Errors.IsNotFound(ex) && ex.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Reading the properties of", name, Description);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Listings carry no metadata, so <see cref="StoredObjectInfo.RetainUntil"/> is null here; <see cref="GetInfoAsync"/>
    /// has it. AWS lists in UTF-8 byte order, but not every S3-compatible server does (s3rver walks folders), so
    /// the pages are gathered and sorted: memory grows with the number of objects under the prefix (names only).
    /// </remarks>
    public async IAsyncEnumerable<StoredObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BackupObjectNames.ValidatePrefix(prefix);
        var all = new List<StoredObjectInfo>();
        await foreach (var info in ListUnorderedAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            all.Add(info);
        }

        all.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var info in all)
        {
            yield return info;
        }
    }

    private async IAsyncEnumerable<StoredObjectInfo> ListUnorderedAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = Settings.Bucket, Prefix = Key(prefix) };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (S3Errors.IsTransport(ex))
            {
                throw S3Errors.Translate(ex, "Listing", prefix, Description);
            }

            foreach (var item in page.S3Objects ?? [])
            {
                var name = item.Key[Settings.KeyPrefix.Length..];
                if (BackupObjectNames.IsValid(name))
                {
                    yield return new StoredObjectInfo(name, item.Size ?? 0, item.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime(), TimeSpan.Zero) : default)
                    {
                        ETag = item.ETag,
                    };
                }
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var info = await GetInfoAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
        if (info.RetainUntil is { } until && until > _timeProvider.GetUtcNow())
        {
            throw new BackupObjectImmutableException($"Object '{name}' is immutable until {until:O}.");
        }

        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Settings.Bucket, Key = Key(name) }, cancellationToken).ConfigureAwait(false);
            _logger.Deleted(Key(name));
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "AccessDenied" && ex.Message.Contains("Object Lock", StringComparison.OrdinalIgnoreCase))
        {
            throw new BackupObjectImmutableException($"Object '{name}' is protected by the bucket's Object Lock.", ex);
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Deleting", name, Description);
        }
    }

    /// <inheritdoc/>
    public async Task SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        ValidateTags(tags);
        _ = await GetInfoAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
        try
        {
            var tagging = new Tagging { TagSet = [.. tags.Select(t => new Tag { Key = t.Key, Value = t.Value })] };
            await _client.PutObjectTaggingAsync(new PutObjectTaggingRequest { BucketName = Settings.Bucket, Key = Key(name), Tagging = tagging }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Tagging", name, Description);
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string name, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);

        // Some endpoints answer tag reads of a missing key with an empty set, so existence is checked first.
        _ = await GetInfoAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
        try
        {
            var response = await _client.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = Settings.Bucket, Key = Key(name) }, cancellationToken)
                .ConfigureAwait(false);
            return (response.Tagging ?? []).ToDictionary(t => t.Key, t => t.Value ?? "", StringComparer.Ordinal);
        }
        catch (Exception ex) when (S3Errors.IsTransport(ex))
        {
            throw S3Errors.Translate(ex, "Reading the tags of", name, Description);
        }
    }

    public void Dispose()
    {
        _initLock.Dispose();
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    internal static void AddRetention(MetadataCollection metadata, DateTimeOffset retainUntil) =>
        metadata.Add(RetainUntilMetadata, retainUntil.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));

    private static StoredObjectInfo Describe(string name, GetObjectMetadataResponse head)
    {
        DateTimeOffset? retainUntil = null;
        var stored = head.Metadata[RetainUntilMetadata];
        if (!string.IsNullOrEmpty(stored)
            && DateTimeOffset.TryParse(stored, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            retainUntil = parsed;
        }

        if (head.ObjectLockRetainUntilDate is { } locked)
        {
            var lockedUntil = new DateTimeOffset(locked.ToUniversalTime(), TimeSpan.Zero);
            retainUntil = retainUntil is { } meta && meta > lockedUntil ? meta : lockedUntil;
        }

        var modified = head.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime(), TimeSpan.Zero) : default;
        return new StoredObjectInfo(name, head.ContentLength, modified) { RetainUntil = retainUntil, ETag = head.ETag };
    }

    private static void ValidateTags(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count > MaxTags)
        {
            throw new ArgumentException($"At most {MaxTags} tags per object (the S3 object-tag limit).", nameof(tags));
        }

        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 128 || value is null || value.Length > 256)
            {
                throw new ArgumentException($"Invalid tag '{key}': keys are 1-128 and values 0-256 characters.", nameof(tags));
            }
        }
    }
}

/// <summary>What an S3 endpoint and bucket support.</summary>
/// <param name="ConditionalWrites">The endpoint honours <c>If-None-Match: *</c> on writes.</param>
/// <param name="ObjectLock">The bucket has Object Lock, so retention is enforced by the service.</param>
/// <param name="ObjectLockDetail">Why Object Lock is (not) available, for reports.</param>
internal sealed record S3StoreCapabilities(bool ConditionalWrites, bool ObjectLock, string ObjectLockDetail)
{
    /// <summary>How an unsupported feature is reported.</summary>
    public const string NotSupported = "not supported";
}
