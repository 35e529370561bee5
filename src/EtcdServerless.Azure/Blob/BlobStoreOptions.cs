using System.Globalization;
using System.Net;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// Where a <see cref="BlobBackupStore"/> writes and how it moves bytes. Parse a store URI with
/// <see cref="Parse(Uri)"/>: <c>https://acct.blob.core.windows.net/container[/prefix]</c> (production, account
/// in the host name) or <c>http://127.0.0.1:10000/devstoreaccount1/container[/prefix]</c> (Azurite and other
/// path-style endpoints: an IP address or <c>localhost</c> host puts the account in the first path segment).
/// </summary>
internal sealed record BlobStoreOptions
{
    /// <summary>
    /// Largest block we buffer (the service accepts up to 4000 MiB, but each block in flight is held in memory).
    /// </summary>
    public const int MaxBlockSize = 256 * 1024 * 1024;

    /// <summary>The account endpoint without trailing slash: <c>https://acct.blob.core.windows.net</c> or <c>http://127.0.0.1:p/devstoreaccount1</c>.</summary>
    public required Uri AccountEndpoint { get; init; }

    /// <summary>The storage account name (signs Shared Key requests).</summary>
    public required string AccountName { get; init; }

    /// <summary>The container holding the artifacts.</summary>
    public required string Container { get; init; }

    /// <summary>A name prefix inside the container, empty or ending in '/'.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>
    /// Bytes per staged block; memory held by a writer is about <c>BlockSize * (MaxBlocksInFlight + 1)</c>:
    /// 12 MiB by default (was 8 MiB x 5 = 40 MiB; the backup's peak RSS budget is 128 MB, docs/benchmarks.md).
    /// </summary>
    public int BlockSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Blocks a writer uploads in parallel (StageBlock calls in flight).</summary>
    public int MaxBlocksInFlight { get; init; } = 2;

    /// <summary>Ranges a reader downloads in parallel per stream.</summary>
    public int MaxConcurrency { get; init; } = 4;

    /// <summary>Bytes per ranged GET. At most 4 MiB keeps the per-range Content-MD5 check available.</summary>
    public int ReadRangeSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Blobs per List Blobs page (the service caps it at 5000).</summary>
    public int ListPageSize { get; init; } = 5000;

    /// <summary>Retries after the first try for 408/429/500/502/503/504, I/O errors and timeouts.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>First retry delay; it doubles (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(0.8);

    /// <summary>Upper bound of one retry delay.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one try (request sent and response read); a try past it is retried.</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>The container's URI (path-style endpoints keep the account as their first path segment).</summary>
    public Uri ContainerUri => new($"{AccountEndpoint.ToString().TrimEnd('/')}/{Uri.EscapeDataString(Container)}");

    /// <summary>A secret-free description: the container URL with the prefix, never a SAS.</summary>
    public string Description => $"{AccountEndpoint.ToString().TrimEnd('/')}/{Container}/{Prefix}".TrimEnd('/');

    /// <summary>Parses a store URI. A query string (a SAS) is ignored here: read it with <see cref="TryGetSas"/>.</summary>
    /// <exception cref="FormatException">The URI is not a blob container URI.</exception>
    public static BlobStoreOptions Parse(Uri storeUri)
    {
        ArgumentNullException.ThrowIfNull(storeUri);
        if (!storeUri.IsAbsoluteUri || (storeUri.Scheme != Uri.UriSchemeHttps && storeUri.Scheme != Uri.UriSchemeHttp))
        {
            throw new FormatException($"A blob store URI must be an absolute http(s) URI, got '{Redact(storeUri)}'.");
        }

        var segments = storeUri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(Uri.UnescapeDataString).ToArray();
        var pathStyle = storeUri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            || string.Equals(storeUri.Host, "localhost", StringComparison.OrdinalIgnoreCase);

        string account;
        Uri endpoint;
        int containerIndex;
        var authority = storeUri.GetLeftPart(UriPartial.Authority);
        if (pathStyle)
        {
            if (segments.Length < 2)
            {
                throw new FormatException($"A path-style blob URI needs /account/container, got '{Redact(storeUri)}'.");
            }

            account = segments[0];
            endpoint = new Uri($"{authority}/{Uri.EscapeDataString(account)}");
            containerIndex = 1;
        }
        else
        {
            var dot = storeUri.Host.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || segments.Length < 1)
            {
                throw new FormatException($"A blob URI needs https://account.blob.core.windows.net/container, got '{Redact(storeUri)}'.");
            }

            account = storeUri.Host[..dot];
            endpoint = new Uri(authority);
            containerIndex = 0;
        }

        var container = segments[containerIndex];
        if (!IsValidContainerName(container))
        {
            throw new FormatException($"'{container}' is not a valid container name (3-63 lowercase letters, digits and single hyphens).");
        }

        var prefixParts = segments.Skip(containerIndex + 1).ToArray();
        var prefix = prefixParts.Length == 0 ? "" : string.Join('/', prefixParts) + "/";
        return new BlobStoreOptions
        {
            AccountEndpoint = new Uri(endpoint.ToString().TrimEnd('/')),
            AccountName = account,
            Container = container,
            Prefix = prefix,
        };
    }

    /// <summary>Returns the SAS carried in the URI's query string, if any (a store URI may be a SAS URL).</summary>
    public static bool TryGetSas(Uri storeUri, out string sas)
    {
        ArgumentNullException.ThrowIfNull(storeUri);
        sas = storeUri.IsAbsoluteUri ? storeUri.Query.TrimStart('?') : "";
        return sas.Contains("sig=", StringComparison.Ordinal);
    }

    /// <summary>Checks the numeric knobs; called by the store's constructor.</summary>
    public void Validate()
    {
        if (BlockSize is < 1 or > MaxBlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, string.Create(CultureInfo.InvariantCulture, $"BlockSize must be between 1 and {MaxBlockSize}."));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrency, 1, nameof(MaxConcurrency));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBlocksInFlight, 1, nameof(MaxBlocksInFlight));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReadRangeSize, 1, nameof(ReadRangeSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ListPageSize, 1, nameof(ListPageSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ListPageSize, 5000, nameof(ListPageSize));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries, nameof(MaxRetries));
        if (Prefix.Length > 0 && !Prefix.EndsWith('/'))
        {
            throw new ArgumentException("Prefix must be empty or end with '/'.", nameof(Prefix));
        }
    }

    private static bool IsValidContainerName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && name[0] != '-' && name[^1] != '-'
        && !name.Contains("--", StringComparison.Ordinal);

    private static string Redact(Uri uri) =>
        uri.IsAbsoluteUri ? uri.GetLeftPart(UriPartial.Path) : WebUtility.UrlEncode(uri.OriginalString.Split('?')[0]);
}
