using Azure;
using Azure.Core;
using Azure.Storage;
using Azure.Storage.Blobs;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// How a <see cref="BlobBackupStore"/> authorizes its requests: one of the SDK's own credential types
/// (<see cref="TokenCredential"/>, <see cref="StorageSharedKeyCredential"/>, <see cref="AzureSasCredential"/>),
/// chosen once and turned into a <see cref="BlobContainerClient"/> by <see cref="CreateContainerClient"/>.
/// </summary>
internal abstract class BlobCredential
{
    private protected BlobCredential()
    {
    }

    /// <summary>Microsoft Entra ID (managed identity, workload identity, developer login): the production choice.</summary>
    public static BlobCredential FromToken(TokenCredential credential) => new Token(credential);

    /// <summary>The account key (Azurite and development). The key is held by the SDK's credential and never logged.</summary>
    public static BlobCredential FromSharedKey(string accountName, string accountKey) => new SharedKey(accountName, accountKey);

    /// <summary>A SAS token (query string, with or without the leading '?').</summary>
    public static BlobCredential FromSas(string sas) => new Sas(sas);

    /// <summary>A container client authorized by this credential.</summary>
    internal abstract BlobContainerClient CreateContainerClient(Uri containerUri, BlobClientOptions options);

    /// <summary>Entra ID bearer tokens for Azure Storage (the SDK refuses to send them over plain http).</summary>
    private sealed class Token(TokenCredential credential) : BlobCredential
    {
        private readonly TokenCredential _credential = credential ?? throw new ArgumentNullException(nameof(credential));

        internal override BlobContainerClient CreateContainerClient(Uri containerUri, BlobClientOptions options)
        {
            if (containerUri.Scheme != Uri.UriSchemeHttps)
            {
                throw new ArgumentException(
                    "Entra ID tokens are only sent over TLS: use an https store URI, or an account key or SAS for a local http endpoint such as Azurite.",
                    nameof(containerUri));
            }

            return new(containerUri, _credential, options);
        }
    }

    /// <summary>Shared Key: the SDK signs every request with HMAC-SHA256 of the account key.</summary>
    private sealed class SharedKey : BlobCredential
    {
        private readonly StorageSharedKeyCredential _credential;

        public SharedKey(string accountName, string accountKey)
        {
            ArgumentException.ThrowIfNullOrEmpty(accountName);
            ArgumentException.ThrowIfNullOrEmpty(accountKey);
            // The SDK decodes the key lazily and its error would surface on the first request; check it here,
            // without ever echoing the key.
            if (!Convert.TryFromBase64String(accountKey, new byte[accountKey.Length], out _))
            {
                throw new ArgumentException("The storage account key is not valid base64.", nameof(accountKey));
            }

            _credential = new StorageSharedKeyCredential(accountName, accountKey);
        }

        internal override BlobContainerClient CreateContainerClient(Uri containerUri, BlobClientOptions options) =>
            new(containerUri, _credential, options);
    }

    /// <summary>A shared access signature the SDK appends to every request's query.</summary>
    private sealed class Sas : BlobCredential
    {
        private readonly AzureSasCredential _credential;

        public Sas(string sas)
        {
            ArgumentException.ThrowIfNullOrEmpty(sas);
            var query = sas.TrimStart('?');
            if (!query.Contains("sig=", StringComparison.Ordinal))
            {
                throw new ArgumentException("A SAS must contain a 'sig' parameter.", nameof(sas));
            }

            _credential = new AzureSasCredential(query);
        }

        internal override BlobContainerClient CreateContainerClient(Uri containerUri, BlobClientOptions options) =>
            new(containerUri, _credential, options);
    }
}
