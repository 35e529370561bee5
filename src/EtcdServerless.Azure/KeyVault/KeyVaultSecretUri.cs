namespace EtcdServerless.Azure.KeyVault;

/// <summary>A Key Vault secret address: <c>https://vault.vault.azure.net/secrets/name</c>.</summary>
/// <param name="VaultUri">The vault, e.g. <c>https://vault.vault.azure.net/</c>.</param>
/// <param name="SecretName">The secret holding the KEK (letters, digits and '-').</param>
internal sealed record KeyVaultSecretUri(Uri VaultUri, string SecretName)
{
    /// <summary>Parses <c>https://vault/secrets/name</c> (a trailing version segment is rejected: the store manages versions).</summary>
    /// <exception cref="FormatException">The URI is not a Key Vault secret URI.</exception>
    public static KeyVaultSecretUri Parse(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || uri.Scheme != Uri.UriSchemeHttps)
        {
            throw new FormatException($"A Key Vault URI must be https, got '{uri}'.");
        }

        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length != 2 || !string.Equals(segments[0], "secrets", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"A Key Vault key URI must look like https://vault.vault.azure.net/secrets/name, got '{uri}'.");
        }

        var name = segments[1];
        if (name.Length is 0 or > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            throw new FormatException($"'{name}' is not a valid Key Vault secret name (1-127 letters, digits and '-').");
        }

        return new KeyVaultSecretUri(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), name);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{VaultUri}secrets/{SecretName}";
}
