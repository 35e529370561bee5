using System.Globalization;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// A raw answer whose status the caller interprets, read out before the HTTP message is disposed.
/// <see cref="Failure"/> is the translated exception for a non-success status.
/// </summary>
internal sealed record BlobAnswer(int Status, string? ErrorCode, string? ETag, DateTimeOffset? LastModified, BackupStoreException? Failure);

/// <summary>Properties of one committed blob (Get Blob Properties).</summary>
internal sealed record BlobProperties(long Length, DateTimeOffset LastModified, string? ETag, DateTimeOffset? ImmutableUntil, string? ContentMd5);

/// <summary>
/// The few Blob REST operations the store needs, each one HTTP request through the Azure.Core pipeline.
/// Blob names here are full names inside the container (store prefix included). Failures surface as
/// <see cref="BackupStoreException"/> (see <see cref="BlobErrors"/>), except where a method returns the raw
/// <see cref="Response"/> because its caller gives some statuses their own meaning.
/// </summary>
internal sealed class BlobRestClient
{
    private readonly HttpPipeline _pipeline;
    private readonly BlobStoreOptions _options;
    private readonly Uri _containerUri;

    public BlobRestClient(HttpPipeline pipeline, BlobStoreOptions options)
    {
        _pipeline = pipeline;
        _options = options;
        // Path-style endpoints (Azurite) carry the account as the first path segment; never end up with "//".
        _containerUri = new Uri(options.AccountEndpoint.GetLeftPart(UriPartial.Authority)
            + options.AccountEndpoint.AbsolutePath.TrimEnd('/') + "/" + Uri.EscapeDataString(options.Container));
    }

    /// <summary>The request URI of a blob (or of the container when <paramref name="blob"/> is null), without query.</summary>
    internal Uri UriOf(string? blob)
    {
        using var message = Create(RequestMethod.Get, blob);
        return message.Request.Uri.ToUri();
    }

    /// <summary>Create Container; an existing container is fine.</summary>
    public async Task CreateContainerIfNotExistsAsync(CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blob: null);
        message.Request.Uri.AppendQuery("restype", "container");
        var response = await SendAsync(message, "Create container", _options.Container, cancellationToken).ConfigureAwait(false);
        if (response.Status is not (201 or 409))
        {
            throw BlobErrors.FromResponse(response, "Create container", _options.Container);
        }
    }

    /// <summary>Put Block with a transactional Content-MD5 (the service rejects a block that arrives corrupted).</summary>
    public async Task PutBlockAsync(string blob, string blockId, ReadOnlyMemory<byte> data, byte[] md5, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blob);
        message.Request.Uri.AppendQuery("comp", "block");
        message.Request.Uri.AppendQuery("blockid", blockId);
        message.Request.Headers.SetValue("Content-MD5", Convert.ToBase64String(md5));
        message.Request.Content = RequestContent.Create(data);
        var response = await SendAsync(message, "Put Block", blob, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw BlobErrors.FromResponse(response, "Put Block", blob);
        }
    }

    /// <summary>Put Block List with <c>If-None-Match: *</c> (write-once), tags and the whole-blob MD5. Returns the raw answer.</summary>
    public async Task<BlobAnswer> PutBlockListAsync(string blob, IReadOnlyList<string> blockIds, string contentType, byte[] blobMd5,
        IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blob);
        message.Request.Uri.AppendQuery("comp", "blocklist");
        var headers = message.Request.Headers;
        headers.SetValue("If-None-Match", "*");
        headers.SetValue("Content-Type", "application/xml; charset=utf-8");
        headers.SetValue("x-ms-blob-content-type", contentType);
        headers.SetValue("x-ms-blob-content-md5", Convert.ToBase64String(blobMd5));
        if (tags.Count > 0)
        {
            headers.SetValue("x-ms-tags", string.Join('&', tags.Select(t => $"{Uri.EscapeDataString(t.Key)}={Uri.EscapeDataString(t.Value)}")));
        }

        message.Request.Content = RequestContent.Create(BlobXml.BlockList(blockIds));
        var response = await SendAsync(message, "Put Block List", blob, cancellationToken).ConfigureAwait(false);
        return Answer(response, 201, "Put Block List", blob);
    }

    /// <summary>Get Blob Properties (HEAD); null when the blob does not exist.</summary>
    public async Task<BlobProperties?> GetPropertiesAsync(string blob, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Head, blob);
        var response = await SendAsync(message, "Get Blob Properties", blob, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404 && BlobErrors.ErrorCode(response) != "ContainerNotFound")
        {
            return null;
        }

        if (response.Status != 200)
        {
            throw BlobErrors.FromResponse(response, "Get Blob Properties", blob);
        }

        var h = response.Headers;
        var length = h.ContentLength ?? throw new InvalidDataException($"Get Blob Properties '{blob}' returned no Content-Length.");
        var lastModified = BlobXml.ParseHttpDate(h.TryGetValue("Last-Modified", out var lm) ? lm : null) ?? DateTimeOffset.MinValue;
        return new BlobProperties(length, lastModified, h.ETag?.ToString(),
            BlobXml.ParseHttpDate(h.TryGetValue("x-ms-immutability-policy-until-date", out var until) ? until : null),
            h.TryGetValue("Content-MD5", out var md5) ? md5 : null);
    }

    /// <summary>
    /// Get Blob for one range, pinned to <paramref name="etag"/> so a replaced blob cannot mix into the read.
    /// The body is buffered inside the pipeline, so a connection dropped mid-body is retried like any other fault.
    /// For ranges of 4 MiB or less the service's Content-MD5 of the range is checked.
    /// </summary>
    public async Task<ReadOnlyMemory<byte>> GetRangeAsync(string blob, long offset, int count, string? etag, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Get, blob);
        var headers = message.Request.Headers;
        headers.SetValue("x-ms-range", string.Create(CultureInfo.InvariantCulture, $"bytes={offset}-{offset + count - 1}"));
        var checkMd5 = count <= 4 * 1024 * 1024;
        if (checkMd5)
        {
            headers.SetValue("x-ms-range-get-content-md5", "true");
        }

        if (etag is not null)
        {
            headers.SetValue("If-Match", etag);
        }

        var response = await SendAsync(message, "Get Blob", blob, cancellationToken).ConfigureAwait(false);
        if (response.Status is not (200 or 206))
        {
            throw BlobErrors.FromResponse(response, "Get Blob", blob);
        }

        var data = response.Content.ToMemory();
        if (data.Length != count)
        {
            throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture,
                $"Get Blob '{blob}' returned {data.Length} bytes for a {count}-byte range at offset {offset}."));
        }

        // MD5 is the Blob service's transactional integrity check (Content-MD5), not a security primitive.
#pragma warning disable CA5351
        if (checkMd5 && response.Headers.TryGetValue("Content-MD5", out var expected)
            && !string.Equals(expected, Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(data.Span)), StringComparison.Ordinal))
#pragma warning restore CA5351
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"Get Blob '{blob}': the range at offset {offset} does not match its Content-MD5."));
        }

        return data;
    }

    /// <summary>One List Blobs page (committed blobs only).</summary>
    public async Task<BlobListPage> ListAsync(string prefix, string? marker, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Get, blob: null);
        var uri = message.Request.Uri;
        uri.AppendQuery("restype", "container");
        uri.AppendQuery("comp", "list");
        if (prefix.Length > 0)
        {
            uri.AppendQuery("prefix", prefix);
        }

        if (marker is not null)
        {
            uri.AppendQuery("marker", marker);
        }

        uri.AppendQuery("maxresults", _options.ListPageSize.ToString(CultureInfo.InvariantCulture));
        uri.AppendQuery("include", "immutabilitypolicy");
        var response = await SendAsync(message, "List Blobs", prefix, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw BlobErrors.FromResponse(response, "List Blobs", prefix);
        }

        return BlobXml.ParseList(response.ContentStream ?? Stream.Null);
    }

    /// <summary>Delete Blob (with its snapshots, if any).</summary>
    public async Task DeleteAsync(string blob, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Delete, blob);
        var response = await SendAsync(message, "Delete Blob", blob, cancellationToken).ConfigureAwait(false);
        if (response.Status != 202)
        {
            throw BlobErrors.FromResponse(response, "Delete Blob", blob);
        }
    }

    /// <summary>Set Blob Tags (replaces the whole set).</summary>
    public async Task SetTagsAsync(string blob, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blob);
        message.Request.Uri.AppendQuery("comp", "tags");
        message.Request.Headers.SetValue("Content-Type", "application/xml; charset=utf-8");
        message.Request.Content = RequestContent.Create(BlobXml.Tags(tags));
        var response = await SendAsync(message, "Set Blob Tags", blob, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw BlobErrors.FromResponse(response, "Set Blob Tags", blob);
        }
    }

    /// <summary>Get Blob Tags.</summary>
    public async Task<Dictionary<string, string>> GetTagsAsync(string blob, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Get, blob);
        message.Request.Uri.AppendQuery("comp", "tags");
        var response = await SendAsync(message, "Get Blob Tags", blob, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw BlobErrors.FromResponse(response, "Get Blob Tags", blob);
        }

        return BlobXml.ParseTags(response.ContentStream ?? Stream.Null);
    }

    /// <summary>Set Blob Immutability Policy (unlocked, time-based). Returns the raw answer: 501 means the endpoint lacks it.</summary>
    public async Task<BlobAnswer> SetImmutabilityPolicyAsync(string blob, DateTimeOffset until, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blob);
        message.Request.Uri.AppendQuery("comp", "immutabilityPolicies");
        message.Request.Headers.SetValue("x-ms-immutability-policy-until-date", until.ToUniversalTime().ToString("R", CultureInfo.InvariantCulture));
        message.Request.Headers.SetValue("x-ms-immutability-policy-mode", "Unlocked");
        var response = await SendAsync(message, "Set Blob Immutability Policy", blob, cancellationToken).ConfigureAwait(false);
        return Answer(response, 200, "Set Blob Immutability Policy", blob);
    }

    /// <summary>Set Blob Legal Hold. Returns the raw answer: 501 means the endpoint lacks it.</summary>
    public async Task<BlobAnswer> SetLegalHoldAsync(string blob, bool hold, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blob);
        message.Request.Uri.AppendQuery("comp", "legalhold");
        message.Request.Headers.SetValue("x-ms-legal-hold", hold ? "true" : "false");
        var response = await SendAsync(message, "Set Blob Legal Hold", blob, cancellationToken).ConfigureAwait(false);
        return Answer(response, 200, "Set Blob Legal Hold", blob);
    }

    private static BlobAnswer Answer(Response response, int success, string operation, string blob) =>
        new(response.Status, BlobErrors.ErrorCode(response), response.Headers.ETag?.ToString(),
            BlobXml.ParseHttpDate(response.Headers.TryGetValue("Last-Modified", out var lm) ? lm : null),
            response.Status == success ? null : BlobErrors.FromResponse(response, operation, blob));

    private HttpMessage Create(RequestMethod method, string? blob)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        var uri = message.Request.Uri;
        uri.Reset(_containerUri);
        if (blob is not null)
        {
            uri.AppendPath("/" + EscapeBlobName(blob), escape: false);
        }

        return message;
    }

    private static string EscapeBlobName(string blob)
    {
        // Keep '/' as the virtual directory separator; escape everything else per segment.
        var sb = new StringBuilder(blob.Length + 16);
        var first = true;
        foreach (var segment in blob.Split('/'))
        {
            if (!first)
            {
                sb.Append('/');
            }

            sb.Append(Uri.EscapeDataString(segment));
            first = false;
        }

        return sb.ToString();
    }

    private async Task<Response> SendAsync(HttpMessage message, string operation, string blob, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (RequestFailedException ex)
        {
            throw BlobErrors.Transport(ex, operation, blob);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Per-try timeouts that outlived every retry.
            throw BlobErrors.Transport(ex, operation, blob);
        }
        catch (IOException ex)
        {
            throw BlobErrors.Transport(ex, operation, blob);
        }
        catch (AggregateException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Azure.Core's retry policy aggregates the faults of every try once it gives up.
            throw BlobErrors.Transport(ex, operation, blob);
        }
    }
}
