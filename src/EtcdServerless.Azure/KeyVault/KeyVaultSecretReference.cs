namespace EtcdServerless.Azure.KeyVault;

/// <summary>
/// A setting that names a Key Vault secret instead of a file: <c>https://vault.vault.azure.net/secrets/name</c>
/// with an optional <c>/version</c> (without one the current version is read).
/// </summary>
internal sealed record KeyVaultSecretReference(Uri VaultUri, string Name, string? Version)
{
    /// <summary>True when <paramref name="value"/> is meant as a secret URI (https) rather than a file path.</summary>
    public static bool IsSecretUri(string? value) =>
        value is not null && value.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses a secret URI.</summary>
    /// <param name="key">The configuration key the value came from, named in the error.</param>
    /// <param name="value">The setting's value.</param>
    /// <exception cref="FormatException">The value is not https://host/secrets/name[/version].</exception>
    public static KeyVaultSecretReference Parse(string key, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || !string.IsNullOrEmpty(uri.Query))
        {
            throw new FormatException($"{key}: '{value}' is not a Key Vault secret URI (https://<vault>.vault.azure.net/secrets/<name>[/<version>]).");
        }

        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length is < 2 or > 3 || !string.Equals(segments[0], "secrets", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"{key}: '{value}' is not a Key Vault secret URI (https://<vault>.vault.azure.net/secrets/<name>[/<version>]).");
        }

        var name = segments[1];
        if (name.Length is 0 or > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new FormatException($"{key}: '{name}' is not a valid Key Vault secret name (1-127 letters, digits and '-').");
        }

        var version = segments.Length == 3 ? segments[2] : null;
        if (version is not null && (version.Length != 32 || !version.All(char.IsAsciiHexDigit)))
        {
            throw new FormatException($"{key}: '{version}' is not a Key Vault secret version (32 hex digits).");
        }

        return new KeyVaultSecretReference(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), name, version);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{VaultUri}secrets/{Name}{(Version is null ? "" : "/" + Version)}";
}
