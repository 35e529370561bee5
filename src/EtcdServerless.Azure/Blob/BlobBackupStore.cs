using System.Runtime.CompilerServices;
using Azure.Core;
using Azure.Core.Pipeline;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// <see cref="IBackupStore"/> on Azure Blob Storage (or Azurite), speaking the Blob REST API through an
/// Azure.Core <see cref="HttpPipeline"/>: retries with exponential backoff, per-try timeouts, Entra ID bearer
/// tokens, Shared Key or SAS. Objects are block blobs written once (Put Block List with <c>If-None-Match: *</c>),
/// read with parallel ranged GETs, tagged with blob index tags, and protected with a time-based immutability
/// policy when <see cref="BackupObjectWriteOptions.RetainUntil"/> is set.
/// </summary>
/// <remarks>
/// This class is the whole seam to Blob Storage: where a full NuGet feed exists, an implementation over
/// <c>Azure.Storage.Blobs</c> (BlockBlobClient.StageBlock/CommitBlockList, OpenRead, GetBlobsAsync,
/// SetImmutabilityPolicy) can replace it without touching callers. Endpoints that lack the immutability APIs
/// (Azurite answers 501) are reported as "immutability not supported by this endpoint": logged as a warning
/// and visible as <see cref="StoredObjectInfo.RetainUntil"/> being null and in <see cref="LastImmutabilityOutcome"/>;
/// the write fails only when <see cref="BackupObjectWriteOptions.RequireImmutability"/> is true.
/// </remarks>
internal sealed class BlobBackupStore : IBackupStore
{
    private readonly BlobRestClient _client;
    private readonly BlobStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a store; nothing is sent until the first operation.</summary>
    /// <param name="options">Endpoint, container, prefix and transfer knobs (see <see cref="BlobStoreOptions.Parse"/>).</param>
    /// <param name="credential">Entra ID token credential, Shared Key or SAS.</param>
    /// <param name="logger">Logger; secrets are never logged.</param>
    /// <param name="time">Clock for Shared Key dates.</param>
    /// <param name="transport">Replaces the HTTP transport (e.g. to trust a test certificate).</param>
    public BlobBackupStore(BlobStoreOptions options, BlobCredential credential, ILogger<BlobBackupStore>? logger = null,
        TimeProvider? time = null, HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _client = new BlobRestClient(BlobPipeline.Build(options, credential, time ?? TimeProvider.System, transport), options);
    }

    /// <summary>
    /// Creates a store from a store URI: a SAS in the URI's query wins, then <paramref name="accountKey"/>
    /// (Shared Key), then <paramref name="tokenCredential"/> (Entra ID).
    /// </summary>
    public static BlobBackupStore FromUri(Uri storeUri, TokenCredential? tokenCredential = null, string? accountKey = null,
        ILogger<BlobBackupStore>? logger = null)
    {
        var options = BlobStoreOptions.Parse(storeUri);
        BlobCredential credential = BlobStoreOptions.TryGetSas(storeUri, out var sas) ? BlobCredential.FromSas(sas)
            : accountKey is not null ? BlobCredential.FromSharedKey(options.AccountName, accountKey)
            : tokenCredential is not null ? BlobCredential.FromToken(tokenCredential)
            : throw new ArgumentException("A blob store needs a SAS in its URI, an account key or a token credential.", nameof(tokenCredential));
        return new BlobBackupStore(options, credential, logger);
    }

    /// <inheritdoc/>
    public string Description => _options.Description;

    /// <summary>The options the store runs with.</summary>
    public BlobStoreOptions Options => _options;

    /// <summary>The outcome of the most recent immutability request made by a commit (null before the first one).</summary>
    public ImmutabilityOutcome? LastImmutabilityOutcome { get; private set; }

    /// <summary>Creates the container when it does not exist (Azurite, first runs). Production containers come from Bicep.</summary>
    public Task CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        _client.CreateContainerIfNotExistsAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task<IBackupObjectWriter> OpenWriteAsync(string name, BackupObjectWriteOptions options, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        ArgumentNullException.ThrowIfNull(options);
        ValidateTags(options.Tags);
        if (options.RequireImmutability && options.RetainUntil is null)
        {
            throw new ArgumentException("RequireImmutability needs RetainUntil.", nameof(options));
        }

        var blob = _options.Prefix + name;
        // Fail fast instead of uploading gigabytes that can never be committed; the commit still decides.
        if (await _client.GetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new BackupObjectExistsException($"'{name}' already exists; backup objects are write-once.");
        }

        return new BlockBlobWriter(_client, _options, blob, name, options,
            (info, ct) => ProtectAsync(blob, info, options, ct), _logger);
    }

    /// <inheritdoc/>
    public async Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Length must not be negative.");
        }

        var blob = _options.Prefix + name;
        var properties = await _client.GetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupObjectNotFoundException($"'{name}' does not exist in {Description}.");
        // Like the local store: an offset past the end reads nothing.
        var available = Math.Max(0, properties.Length - offset);
        var count = length is null ? available : Math.Min(length.Value, available);
        return new RangedBlobReadStream(_client, blob, properties.ETag, offset, count, _options.ReadRangeSize, _options.MaxConcurrency);
    }

    /// <inheritdoc/>
    public async Task<StoredObjectInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var properties = await _client.GetPropertiesAsync(_options.Prefix + name, cancellationToken).ConfigureAwait(false);
        return properties is null
            ? null
            : new StoredObjectInfo(name, properties.Length, properties.LastModified) { ETag = properties.ETag, RetainUntil = properties.ImmutableUntil };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BackupObjectNames.ValidatePrefix(prefix);
        string? marker = null;
        do
        {
            var page = await _client.ListAsync(_options.Prefix + prefix, marker, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return new StoredObjectInfo(item.Name[_options.Prefix.Length..], item.Length, item.LastModified)
                {
                    ETag = item.ETag,
                    RetainUntil = item.ImmutableUntil,
                };
            }

            marker = page.NextMarker;
        }
        while (marker is not null);
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        await _client.DeleteAsync(_options.Prefix + name, cancellationToken).ConfigureAwait(false);
        _logger.BlobDeleted(name);
    }

    /// <inheritdoc/>
    public Task SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        ValidateTags(tags);
        return _client.SetTagsAsync(_options.Prefix + name, tags, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        return await _client.GetTagsAsync(_options.Prefix + name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sets or clears a legal hold. Returns "immutability not supported by this endpoint" (not applied) where the
    /// service lacks the API; throws for other failures.
    /// </summary>
    public async Task<ImmutabilityOutcome> SetLegalHoldAsync(string name, bool hold, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var answer = await _client.SetLegalHoldAsync(_options.Prefix + name, hold, cancellationToken).ConfigureAwait(false);
        return Interpret(answer, "Set Blob Legal Hold", name, hold ? "legal hold set" : "legal hold cleared");
    }

    private async Task<StoredObjectInfo> ProtectAsync(string blob, StoredObjectInfo info, BackupObjectWriteOptions options, CancellationToken cancellationToken)
    {
        if (options.RetainUntil is not { } until)
        {
            return info;
        }

        // A container with a default version-level policy protects the blob at commit; the app's role (least
        // privilege) cannot set policies itself, so an inherited policy that already reaches far enough is enough.
        var committed = await _client.GetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false);
        if (committed?.ImmutableUntil is { } inherited && inherited >= until)
        {
            LastImmutabilityOutcome = new ImmutabilityOutcome(true, $"retained until {inherited:O} by the container's default policy");
            return info with { RetainUntil = inherited };
        }

        var answer = await _client.SetImmutabilityPolicyAsync(blob, until, cancellationToken).ConfigureAwait(false);
        var outcome = Interpret(answer, "Set Blob Immutability Policy", info.Name, $"retained until {until:O}");
        LastImmutabilityOutcome = outcome;
        if (outcome.Applied)
        {
            return info with { RetainUntil = until };
        }

        if (options.RequireImmutability)
        {
            // Not protected, so it can (and must) go: a backup that asked for WORM must not exist without it.
            try
            {
                await _client.DeleteAsync(blob, CancellationToken.None).ConfigureAwait(false);
            }
            catch (BackupStoreException ex)
            {
                _logger.RollbackFailed(ex, info.Name);
            }

            throw new BackupStoreException($"'{info.Name}' requires immutability, but {outcome.Detail}; the object was removed.");
        }

        return info;
    }

    private ImmutabilityOutcome Interpret(BlobAnswer answer, string operation, string name, string appliedDetail)
    {
        if (answer.Failure is null)
        {
            return new ImmutabilityOutcome(true, appliedDetail);
        }

        // 501 is Azurite's answer; a real account without version-level WORM answers 4xx with a feature code.
        if (answer.Status == 501 || answer.ErrorCode is "FeatureNotSupported" or "APINotImplemented" or "NotImplemented"
            || (answer.Status is 400 or 409 && answer.ErrorCode?.Contains("ImmutableStorage", StringComparison.OrdinalIgnoreCase) == true))
        {
            _logger.ImmutabilityNotSupported(operation, name, answer.Status, answer.ErrorCode);
            return new ImmutabilityOutcome(false, $"{ImmutabilityOutcome.NotSupported} (HTTP {answer.Status} {answer.ErrorCode})");
        }

        throw answer.Failure;
    }

    // The same name rules as every other store, so an object name that works locally works here too.
    private static void ValidateName(string name) => BackupObjectNames.Validate(name);

    private static void ValidateTags(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count > 10)
        {
            throw new ArgumentException("At most 10 tags per blob.", nameof(tags));
        }

        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 128 || value is null || value.Length > 256 || !key.All(IsTagChar) || !value.All(IsTagChar))
            {
                throw new ArgumentException(
                    $"Invalid blob tag '{key}': keys are 1-128 and values 0-256 characters of [A-Za-z0-9 +-./:=_].", nameof(tags));
            }
        }
    }

    private static bool IsTagChar(char c) => char.IsAsciiLetterOrDigit(c) || c is ' ' or '+' or '-' or '.' or '/' or ':' or '=' or '_';
}
