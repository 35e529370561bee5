namespace EtcdServerless.Core.Configuration;

/// <summary>What kind of backend a <c>Store:Uri</c> or <c>Keys:Uri</c> names.</summary>
public enum LocationKind
{
    /// <summary>A local directory (<c>file:///dir</c> or an absolute path).</summary>
    LocalDirectory,

    /// <summary>An Azure Blob container (<c>https://acct.blob.core.windows.net/container</c> or an Azurite URL).</summary>
    BlobContainer,

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
