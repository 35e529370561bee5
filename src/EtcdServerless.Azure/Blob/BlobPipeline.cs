using Azure.Core;
using Azure.Core.Pipeline;

namespace EtcdServerless.Azure.Blob;

/// <summary>Builds the Azure.Core pipeline a <see cref="BlobRestClient"/> sends through.</summary>
internal static class BlobPipeline
{
    /// <summary>The fixed REST version we speak (tags, immutability and legal hold need 2020-06-12+).</summary>
    public const string ApiVersion = "2025-05-05";

    /// <summary>Scope of Entra ID tokens for Azure Storage.</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    /// <summary>
    /// Exponential retries (Azure.Core's default classifier retries 408, 429, 500, 502, 503, 504, I/O errors and
    /// per-try timeouts), the credential's policy, and logging that shows only harmless query parameters and
    /// headers: a SAS signature (<c>sig</c>), the Shared Key signature and bearer tokens are always redacted.
    /// </summary>
    public static HttpPipeline Build(BlobStoreOptions options, BlobCredential credential, TimeProvider time, HttpPipelineTransport? transport = null)
    {
        var clientOptions = new BlobClientOptions();
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

        var perCall = new List<HttpPipelinePolicy> { new VersionPolicy() };
        var perRetry = new List<HttpPipelinePolicy>();
        switch (credential)
        {
            case BlobCredential.Token token:
                perRetry.Add(new BearerTokenAuthenticationPolicy(token.Credential, StorageScope));
                break;
            case BlobCredential.SharedKey sharedKey:
                perRetry.Add(new SharedKeyAuthenticationPolicy(sharedKey.AccountName, sharedKey.Key, time));
                break;
            case BlobCredential.Sas sas:
                perCall.Add(new SasQueryPolicy(sas.Query));
                break;
            default:
                throw new ArgumentException($"Unsupported credential {credential?.GetType().Name}.", nameof(credential));
        }

        return HttpPipelineBuilder.Build(clientOptions, [.. perCall], [.. perRetry], new ResponseClassifier());
    }

    private sealed class BlobClientOptions : ClientOptions
    {
    }

    private sealed class VersionPolicy : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message) => message.Request.Headers.SetValue("x-ms-version", ApiVersion);
    }
}
