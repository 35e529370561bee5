using Azure.Core;

namespace EtcdServerless.Azure.Blob;

/// <summary>How a <see cref="BlobBackupStore"/> authorizes its requests.</summary>
internal abstract class BlobCredential
{
    private protected BlobCredential()
    {
    }

    /// <summary>Microsoft Entra ID (managed identity, workload identity, developer login): the production choice.</summary>
    public static BlobCredential FromToken(TokenCredential credential) => new Token(credential);

    /// <summary>The account key (Azurite and development). The key is held in memory only and never logged.</summary>
    public static BlobCredential FromSharedKey(string accountName, string accountKey) => new SharedKey(accountName, accountKey);

    /// <summary>A SAS token (query string, with or without the leading '?').</summary>
    public static BlobCredential FromSas(string sas) => new Sas(sas);

    /// <summary>Entra ID bearer tokens for <c>https://storage.azure.com/.default</c>.</summary>
    internal sealed class Token(TokenCredential credential) : BlobCredential
    {
        public TokenCredential Credential { get; } = credential ?? throw new ArgumentNullException(nameof(credential));
    }

    /// <summary>Shared Key: every request is signed with HMAC-SHA256 of the account key.</summary>
    internal sealed class SharedKey : BlobCredential
    {
        public SharedKey(string accountName, string accountKey)
        {
            ArgumentException.ThrowIfNullOrEmpty(accountName);
            ArgumentException.ThrowIfNullOrEmpty(accountKey);
            AccountName = accountName;
            try
            {
                Key = Convert.FromBase64String(accountKey);
            }
            catch (FormatException ex)
            {
                // Never echo the key itself.
                throw new ArgumentException("The storage account key is not valid base64.", nameof(accountKey), ex);
            }
        }

        public string AccountName { get; }

        public byte[] Key { get; }
    }

    /// <summary>A shared access signature appended to every request's query.</summary>
    internal sealed class Sas : BlobCredential
    {
        public Sas(string sas)
        {
            ArgumentException.ThrowIfNullOrEmpty(sas);
            Query = sas.TrimStart('?');
            if (!Query.Contains("sig=", StringComparison.Ordinal))
            {
                throw new ArgumentException("A SAS must contain a 'sig' parameter.", nameof(sas));
            }
        }

        public string Query { get; }
    }
}
