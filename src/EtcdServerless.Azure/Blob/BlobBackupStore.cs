using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// <see cref="IBackupStore"/> on Azure Blob Storage (or Azurite) through Azure.Storage.Blobs: retries with
/// exponential backoff and per-try timeouts, Entra ID tokens, Shared Key or SAS. Objects are block blobs written
/// once (staged blocks, then a block-list commit with <c>If-None-Match: *</c>), read with parallel ranged
/// downloads, tagged with blob index tags, and protected with a time-based immutability policy when
/// <see cref="BackupObjectWriteOptions.RetainUntil"/> is set.
/// </summary>
/// <remarks>
/// Endpoints that lack the immutability APIs (Azurite answers 501) are reported as "immutability not supported
/// by this endpoint": logged as a warning and visible as <see cref="StoredObjectInfo.RetainUntil"/> being null
/// and in <see cref="LastImmutabilityOutcome"/>; the write fails only when
/// <see cref="BackupObjectWriteOptions.RequireImmutability"/> is true. Every SDK failure is translated here
/// (<see cref="BlobErrors"/>) into the store's exceptions.
/// </remarks>
internal sealed partial class BlobBackupStore : IBackupStore
{
    private readonly BlobContainerClient _container;
    private readonly BlobStoreOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a store; nothing is sent until the first operation.</summary>
    /// <param name="options">Endpoint, container, prefix and transfer knobs (see <see cref="BlobStoreOptions.Parse"/>).</param>
    /// <param name="credential">Entra ID token credential, Shared Key or SAS.</param>
    /// <param name="logger">Logger; secrets are never logged.</param>
    /// <param name="transport">Replaces the HTTP transport (e.g. to trust a test certificate).</param>
    public BlobBackupStore(BlobStoreOptions options, BlobCredential credential, ILogger<BlobBackupStore>? logger = null,
        HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _container = BlobClientFactory.CreateContainerClient(options, credential, transport);
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

    /// <summary>Creates the container when it does not exist; true when this call created it.</summary>
    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        var created = await CallAsync(ct => _container.CreateIfNotExistsAsync(cancellationToken: ct), "Create Container", _options.Container, cancellationToken)
            .ConfigureAwait(false);
        return created is not null;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// A credential that may not create containers (a SAS without 'c', a data-plane role on an existing
    /// container) is fine when the container exists. The container's own protection is read back: version-level
    /// immutability (whose default policy protects each new blob at commit), a container-level retention policy,
    /// a legal hold. The default policy's period is management-plane data the Blob API does not return.
    /// </remarks>
    public async Task<StoreInitResult> InitializeAsync(CancellationToken cancellationToken = default)
    {
        bool created;
        try
        {
            created = await CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BackupStoreException ex) when (ex.InnerException is RequestFailedException { Status: 403 })
        {
            var exists = await CallAsync(ct => _container.ExistsAsync(ct), "Get Container Properties", _options.Container, cancellationToken)
                .ConfigureAwait(false);
            if (!exists.Value)
            {
                throw new BackupStoreException(
                    $"the container does not exist: {Description}, and this credential may not create it: {ex.Message}", ex.InnerException);
            }

            created = false;
        }

        var properties = (await CallAsync(ct => _container.GetPropertiesAsync(cancellationToken: ct), "Get Container Properties",
            _options.Container, cancellationToken).ConfigureAwait(false)).Value;
        var found = new List<string>();
        if (properties.HasImmutableStorageWithVersioning)
        {
            found.Add("version-level immutability enabled (the container's default policy protects each new blob)");
        }

        if (properties.HasImmutabilityPolicy == true)
        {
            found.Add("a container-level time-based retention policy");
        }

        if (properties.HasLegalHold == true)
        {
            found.Add("a legal hold on the container");
        }

        var warnings = new List<string>();
        if (found.Count == 0)
        {
            warnings.Add("no immutability policy on this container: backups can be deleted or overwritten by anyone with delete rights; "
                + "enable version-level immutability with a default time-based policy (see docs/architecture.md)");
        }

        _logger.StoreInitialized(Description, created, found.Count > 0);
        return new StoreInitResult(Description, created, found.Count == 0 ? "none" : string.Join("; ", found), found.Count > 0)
        {
            Warnings = warnings,
        };
    }

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
        if (await GetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new BackupObjectExistsException($"'{name}' already exists; backup objects are write-once.");
        }

        return new BlockBlobWriter(_container.GetBlockBlobClient(blob), _options, blob, name, options,
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
        var properties = await GetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupObjectNotFoundException($"'{name}' does not exist in {Description}.");
        // Like the local store: an offset past the end reads nothing.
        var available = Math.Max(0, properties.ContentLength - offset);
        var count = length is null ? available : Math.Min(length.Value, available);
        return new RangedBlobReadStream(_container.GetBlobClient(blob), blob, Description, properties.ETag, offset, count,
            _options.ReadRangeSize, _options.MaxConcurrency);
    }

    /// <inheritdoc/>
    public async Task<StoredObjectInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var properties = await GetPropertiesAsync(_options.Prefix + name, cancellationToken).ConfigureAwait(false);
        return properties is null
            ? null
            : new StoredObjectInfo(name, properties.ContentLength, properties.LastModified)
            {
                ETag = properties.ETag.ToString(),
                RetainUntil = properties.ImmutabilityPolicy?.ExpiresOn,
            };
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BackupObjectNames.ValidatePrefix(prefix);
        var options = new GetBlobsOptions { Traits = BlobTraits.ImmutabilityPolicy, Prefix = _options.Prefix + prefix };
        var pages = _container.GetBlobsAsync(options, cancellationToken).AsPages(pageSizeHint: _options.ListPageSize);
        var enumerator = pages.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                Page<BlobItem> page;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }

                    page = enumerator.Current;
                }
                catch (Exception ex) when (BlobErrors.IsServiceFault(ex, cancellationToken))
                {
                    throw BlobErrors.Translate(ex, "List Blobs", options.Prefix, Description);
                }

                foreach (var item in page.Values)
                {
                    yield return new StoredObjectInfo(item.Name[_options.Prefix.Length..], item.Properties.ContentLength ?? 0,
                        item.Properties.LastModified ?? DateTimeOffset.MinValue)
                    {
                        ETag = item.Properties.ETag?.ToString(),
                        RetainUntil = item.Properties.ImmutabilityPolicy?.ExpiresOn,
                    };
                }
            }
        }
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var blob = _options.Prefix + name;
        await CallAsync(ct => _container.GetBlobClient(blob).DeleteAsync(cancellationToken: ct), "Delete Blob", blob, cancellationToken)
            .ConfigureAwait(false);
        _logger.BlobDeleted(name);
    }

    /// <inheritdoc/>
    public async Task SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        ValidateTags(tags);
        var blob = _options.Prefix + name;
        await CallAsync(ct => _container.GetBlobClient(blob).SetTagsAsync(new Dictionary<string, string>(tags), cancellationToken: ct),
            "Set Blob Tags", blob, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var blob = _options.Prefix + name;
        var result = await CallAsync(ct => _container.GetBlobClient(blob).GetTagsAsync(cancellationToken: ct), "Get Blob Tags", blob, cancellationToken)
            .ConfigureAwait(false);
        return new Dictionary<string, string>(result.Value.Tags);
    }

    private async Task<BlobProperties?> GetPropertiesAsync(string blob, CancellationToken cancellationToken)
    {
        try
        {
            return (await _container.GetBlobClient(blob).GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode != "ContainerNotFound")
        {
            return null;
        }
        catch (Exception ex) when (BlobErrors.IsServiceFault(ex, cancellationToken))
        {
            throw BlobErrors.Translate(ex, "Get Blob Properties", blob, Description);
        }
    }

    private Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, string operation, string target, CancellationToken cancellationToken) =>
        BlobErrors.CallAsync(call, operation, target, Description, cancellationToken);

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
