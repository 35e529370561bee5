using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;

namespace EtcdServerless.Azure.Blob;

/// <summary>Builds the Azure.Storage.Blobs container client a <see cref="BlobBackupStore"/> works through.</summary>
internal static class BlobClientFactory
{
    /// <summary>
    /// The REST version we pin: tags, immutability and legal hold need 2020-06-12+, and Azurite (the dev and test
    /// endpoint) accepts this one without <c>--skipApiVersionCheck</c>, where it refuses the SDK's newest.
    /// </summary>
    public const BlobClientOptions.ServiceVersion ServiceVersion = BlobClientOptions.ServiceVersion.V2025_05_05;

    /// <summary>
    /// Exponential retries (the SDK retries 408, 429, 500, 502, 503, 504, I/O errors and per-try timeouts), a
    /// per-try network timeout, and logging that shows only harmless query parameters and headers: a SAS
    /// signature, the Shared Key signature and bearer tokens are always redacted by Azure.Core.
    /// </summary>
    public static BlobContainerClient CreateContainerClient(BlobStoreOptions options, BlobCredential credential, HttpPipelineTransport? transport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credential);
        var clientOptions = new BlobClientOptions(ServiceVersion);
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = options.RetryDelay;
        clientOptions.Retry.MaxDelay = options.MaxRetryDelay;
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        clientOptions.Diagnostics.ApplicationId = "etcd-backup";
        foreach (var name in new[] { "comp", "restype", "blockid", "prefix", "marker", "maxresults", "include" })
        {
            clientOptions.Diagnostics.LoggedQueryParameters.Add(name);
        }

        foreach (var name in new[] { "x-ms-request-id", "x-ms-error-code", "x-ms-version", "x-ms-range", "x-ms-blob-type" })
        {
            clientOptions.Diagnostics.LoggedHeaderNames.Add(name);
        }

        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        return credential.CreateContainerClient(options.ContainerUri, clientOptions);
    }
}
