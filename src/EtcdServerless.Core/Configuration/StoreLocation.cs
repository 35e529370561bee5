namespace EtcdServerless.Core.Configuration;

/// <summary>What kind of backend a <c>Store:Uri</c> or <c>Keys:Uri</c> names.</summary>
public enum LocationKind
{
    /// <summary>A local directory (<c>file:///dir</c> or an absolute path).</summary>
    LocalDirectory,

    /// <summary>An Azure Blob container (<c>https://acct.blob.core.windows.net/container</c> or an Azurite URL).</summary>
    BlobContainer,

    /// <summary>An S3 (or S3-compatible) bucket with an optional key prefix (<c>s3://bucket/prefix</c>).</summary>
    S3Bucket,

    /// <summary>A Key Vault secret (<c>https://vault.vault.azure.net/secrets/name</c>).</summary>
    KeyVaultSecret,
}

/// <summary>A parsed store or key location.</summary>
/// <param name="Kind">The backend.</param>
/// <param name="Uri">The absolute URI (for directories, the <c>file://</c> URI).</param>
/// <param name="LocalPath">For <see cref="LocationKind.LocalDirectory"/>, the full directory path; otherwise null.</param>
public sealed record StoreLocation(LocationKind Kind, Uri Uri, string? LocalPath)
{
    /// <summary>Parses a <c>Store:Uri</c>. Returns null and an error message when it is not supported.</summary>
    public static StoreLocation? TryParseStore(string value, out string? error)
    {
        if (value.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            return TryParseS3(value, out error);
        }

        var location = TryParseCommon(value, out error);
        if (location is null || location.Kind == LocationKind.LocalDirectory)
        {
            return location;
        }

        var segments = location.Uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            error = $"'{value}' names no container (expected https://account.blob.core.windows.net/container or http://127.0.0.1:10000/devstoreaccount1/container)";
            return null;
        }

        if (!string.IsNullOrEmpty(location.Uri.Query))
        {
            error = $"'{Redact(value)}' must not carry a query string; put a SAS token in Store:SasToken";
            return null;
        }

        return location with { Kind = LocationKind.BlobContainer };
    }

    /// <summary>For <see cref="LocationKind.S3Bucket"/>: the bucket name.</summary>
    public string? Bucket { get; init; }

    /// <summary>For <see cref="LocationKind.S3Bucket"/>: the key prefix, empty or ending in '/'.</summary>
    public string KeyPrefix { get; init; } = "";

    // Bucket names follow S3's rules (3-63 lower-case letters, digits, '.', '-'); the prefix may not hold
    // empty, '.' or '..' segments, so every object key stays a clean path under it.
    private static StoreLocation? TryParseS3(string value, out string? error)
    {
        error = null;
        var rest = value["s3://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..];
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')
            || !char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
        {
            error = $"'{Redact(value)}' names no valid bucket (expected s3://bucket/prefix; bucket names are 3-63 lower-case letters, digits, '.' and '-')";
            return null;
        }

        if (prefix.Contains('?', StringComparison.Ordinal) || prefix.Contains('\\', StringComparison.Ordinal))
        {
            error = $"'{Redact(value)}' must not carry a query string or backslashes; put S3 settings under Store:S3";
            return null;
        }

        var segments = prefix.TrimEnd('/').Split('/');
        if (prefix.Length > 0 && segments.Any(s => s.Length == 0 || s == "." || s == ".." || s.StartsWith('.')))
        {
            error = $"'{value}' has an empty or dot segment in its prefix";
            return null;
        }

        var normalized = prefix.Length == 0 ? "" : prefix.TrimEnd('/') + "/";
        return new StoreLocation(LocationKind.S3Bucket, new Uri($"s3://{bucket}/{normalized}"), null) { Bucket = bucket, KeyPrefix = normalized };
    }

    /// <summary>Parses a <c>Keys:Uri</c>. Returns null and an error message when it is not supported.</summary>
    public static StoreLocation? TryParseKeys(string value, out string? error)
    {
        var location = TryParseCommon(value, out error);
        if (location is null || location.Kind == LocationKind.LocalDirectory)
        {
            return location;
        }

        var segments = location.Uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (location.Uri.Scheme != System.Uri.UriSchemeHttps || segments.Length != 2
            || !string.Equals(segments[0], "secrets", StringComparison.OrdinalIgnoreCase))
        {
            error = $"'{value}' is not a Key Vault secret URI (expected https://vault-name.vault.azure.net/secrets/secret-name) or a file:/// directory";
            return null;
        }

        return location with { Kind = LocationKind.KeyVaultSecret };
    }

    private static StoreLocation? TryParseCommon(string value, out string? error)
    {
        error = null;
        if (value.StartsWith('/') && !value.StartsWith("//", StringComparison.Ordinal))
        {
            // A bare absolute path is accepted as a convenience for file:///path.
            var full = Path.GetFullPath(value);
            return new StoreLocation(LocationKind.LocalDirectory, new Uri(full), full);
        }

        if (!System.Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            error = $"'{Redact(value)}' is not an absolute URI (expected file:///dir or https://...)";
            return null;
        }

        if (uri.IsFile)
        {
            if (!string.IsNullOrEmpty(uri.Host) && !uri.IsLoopback)
            {
                error = $"'{value}' names a remote host; use file:///absolute/dir";
                return null;
            }

            var path = Path.GetFullPath(uri.LocalPath);
            return new StoreLocation(LocationKind.LocalDirectory, new Uri(path), path);
        }

        if (uri.Scheme != System.Uri.UriSchemeHttps && uri.Scheme != System.Uri.UriSchemeHttp)
        {
            error = $"scheme '{uri.Scheme}' is not supported (use file:///dir, https://... or http://127.0.0.1:port/... for Azurite)";
            return null;
        }

        if (uri.Scheme == System.Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            error = $"'{Redact(value)}' uses plain http to a non-loopback host; only the local Azurite emulator may use http";
            return null;
        }

        return new StoreLocation(LocationKind.BlobContainer, uri, null);
    }

    // Never echo a query string back: it may hold a SAS signature.
    private static string Redact(string value)
    {
        var q = value.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? value : value[..q] + "?...";
    }
}
