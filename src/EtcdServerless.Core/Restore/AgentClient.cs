using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace EtcdServerless.Core.Restore;

/// <summary>The agent refused or failed a call: the problem+json detail, the HTTP status, and whether it was reached at all.</summary>
internal sealed class AgentCallException : Exception
{
    public AgentCallException()
    {
    }

    public AgentCallException(string message)
        : base(message)
    {
    }

    public AgentCallException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public AgentCallException(string message, HttpStatusCode? statusCode, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The agent's answer, or null when it could not be reached (connection, TLS, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }
}

/// <summary>
/// Calls member agents over HTTPS with mutual TLS: presents the orchestrator's client certificate, and accepts an
/// agent only when its server certificate chains to the configured CA or matches a pinned thumbprint. One instance
/// serves every agent (thread-safe).
/// </summary>
internal sealed partial class AgentClient : IDisposable
{
    private readonly HttpClient? _http;
    private readonly string? _configurationError;
    private readonly TimeSpan _timeout;

    /// <summary>
    /// Builds the client. Missing TLS settings do not fail here (hosts compose it even when no restore ever runs);
    /// every call then fails with the configuration problem, which a restore plan reports as a clear rejection.
    /// </summary>
    public AgentClient(AgentClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        if (options.ClientCertificate is null && (string.IsNullOrWhiteSpace(options.CertFile) || string.IsNullOrWhiteSpace(options.KeyFile)))
        {
            _configurationError = "Restore:AgentTls:CertFile and KeyFile (the orchestrator's client certificate) are required to call agents";
            return;
        }

        if (string.IsNullOrWhiteSpace(options.CaFile) && options.TrustedCa is not { Count: > 0 } && options.ServerThumbprints.Count == 0)
        {
            _configurationError = "Restore:AgentTls:CaFile or ServerThumbprints is required: agents are never trusted blindly";
            return;
        }

        var clientCertificate = options.ClientCertificate ?? X509Certificate2.CreateFromPemFile(options.CertFile!, options.KeyFile);
        var pins = options.ServerThumbprints
            .Select(t => new string([.. t.Where(char.IsAsciiHexDigit).Select(char.ToLowerInvariant)]))
            .ToHashSet(StringComparer.Ordinal);
        var roots = options.TrustedCa is { Count: > 0 } ? options.TrustedCa : null;
        if (roots is null && !string.IsNullOrWhiteSpace(options.CaFile))
        {
            roots = [];
            roots.ImportFromPemFile(options.CaFile);
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [clientCertificate],
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate is X509Certificate2 server && IsTrusted(server, errors, pins, roots),
            },
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Task<AgentPreflight> PreflightAsync(string agentUrl, long snapshotSize, CancellationToken cancellationToken = default) =>
        SendAsync<AgentPreflight>(HttpMethod.Get, agentUrl, $"v1/preflight?snapshotSize={snapshotSize}", null, _timeout, cancellationToken);

    public Task<AgentRestoreStatus> GetAsync(string agentUrl, string restoreId, CancellationToken cancellationToken = default) =>
        SendAsync<AgentRestoreStatus>(HttpMethod.Get, agentUrl, $"v1/restores/{restoreId}", null, _timeout, cancellationToken);

    public Task<AgentRestoreStatus> StopAsync(string agentUrl, string restoreId, CancellationToken cancellationToken = default) =>
        SendAsync<AgentRestoreStatus>(HttpMethod.Post, agentUrl, $"v1/restores/{restoreId}/stop", null, _timeout, cancellationToken);

    /// <summary>Streams <paramref name="snapshot"/> (never buffered) to the agent, which checks it against <paramref name="sha256"/>.</summary>
    public Task<AgentRestoreStatus> UploadSnapshotAsync(string agentUrl, string restoreId, Stream snapshot, string sha256, long? length = null, CancellationToken cancellationToken = default)
    {
        var content = new StreamContent(snapshot, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (length is not null)
        {
            content.Headers.ContentLength = length;
        }

        content.Headers.Add(AgentProtocol.SnapshotSha256Header, sha256);
        return SendAsync<AgentRestoreStatus>(HttpMethod.Put, agentUrl, $"v1/restores/{restoreId}/snapshot", content, Timeout.InfiniteTimeSpan, cancellationToken);
    }

    public Task<AgentRestoreStatus> RestoreAsync(string agentUrl, string restoreId, MemberRestoreRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<AgentRestoreStatus>(HttpMethod.Post, agentUrl, $"v1/restores/{restoreId}/restore", JsonContent.Create(request, options: AgentProtocol.Json), _timeout, cancellationToken);

    public Task<AgentRestoreStatus> StartAsync(string agentUrl, string restoreId, CancellationToken cancellationToken = default) =>
        SendAsync<AgentRestoreStatus>(HttpMethod.Post, agentUrl, $"v1/restores/{restoreId}/start", null, _timeout, cancellationToken);

    public Task<AgentRestoreStatus> RollbackAsync(string agentUrl, string restoreId, CancellationToken cancellationToken = default) =>
        SendAsync<AgentRestoreStatus>(HttpMethod.Post, agentUrl, $"v1/restores/{restoreId}/rollback", null, _timeout, cancellationToken);

    /// <summary>
    /// Streams the agent's control-plane bundle (a tar, never buffered whole) into <paramref name="consume"/>, then checks
    /// its SHA-256 against the agent's <c>X-Bundle-Sha256</c> header. Returns the tar's SHA-256 and size.
    /// </summary>
    public async Task<(string Sha256, long Size)> DownloadBundleAsync(string agentUrl, Func<Stream, CancellationToken, Task> consume, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consume);
        return await ReceiveAsync(HttpMethod.Get, agentUrl, "v1/bundle", null, "the bundle", async (response, body, ct) =>
        {
            var announced = response.Headers.TryGetValues(AgentProtocol.BundleSha256Header, out var values) ? values.FirstOrDefault() : null;
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            var hashing = new IO.HashingReadStream(body, sha, n => size += n);
            await using (hashing.ConfigureAwait(false))
            {
                await consume(hashing, ct).ConfigureAwait(false);
            }

            var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            return string.Equals(actual, announced, StringComparison.OrdinalIgnoreCase)
                ? (actual, size)
                : throw new AgentCallException($"agent {agentUrl} sent a bundle whose SHA-256 {actual} is not the announced {announced ?? "(none)"}", response.StatusCode);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams a bundle (tar) to the agent for <paramref name="restoreId"/>; the agent checks it against <paramref name="sha256"/>.</summary>
    public Task<AgentBundleResult> UploadBundleAsync(string agentUrl, string restoreId, Stream tar, string sha256, long length, CancellationToken cancellationToken = default)
    {
        var content = new StreamContent(tar, 1 << 16);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        content.Headers.ContentLength = length;
        content.Headers.Add(AgentProtocol.BundleSha256Header, sha256);
        return SendAsync<AgentBundleResult>(HttpMethod.Put, agentUrl, $"v1/restores/{restoreId}/bundle", content, _timeout, cancellationToken);
    }

    public void Dispose() => _http?.Dispose();

    private static bool IsTrusted(X509Certificate2 server, SslPolicyErrors errors, HashSet<string> pins, X509Certificate2Collection? roots)
    {
        if (pins.Contains(Convert.ToHexStringLower(server.GetCertHash(HashAlgorithmName.SHA256))) || pins.Contains(server.Thumbprint.ToLowerInvariant()))
        {
            return true;
        }

        if (roots is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        return chain.Build(server);
    }

    /// <summary>
    /// Sends a request whose answer is a stream (never buffered) and hands it to <paramref name="consume"/>: an agent that
    /// cannot be reached, refuses (problem+json detail), or breaks off <paramref name="what"/> is an <see cref="AgentCallException"/>.
    /// No time limit: the caller's token bounds it.
    /// </summary>
    private async Task<T> ReceiveAsync<T>(
        HttpMethod method, string agentUrl, string path, HttpContent? content, string what, Func<HttpResponseMessage, Stream, CancellationToken, Task<T>> consume, CancellationToken cancellationToken)
    {
        using var request = Request(method, agentUrl, path, content);
        using (var response = await StartAsync(request, agentUrl, cancellationToken).ConfigureAwait(false))
        {
            if (!response.IsSuccessStatusCode)
            {
                var detail = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw new AgentCallException($"agent {agentUrl} refused {method} /{path} ({(int)response.StatusCode}): {ProblemDetail(detail)}", response.StatusCode);
            }

            try
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    return await consume(response, body, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (HttpRequestException ex)
            {
                throw new AgentCallException($"agent {agentUrl} broke off {what}: {Innermost(ex)}", null, ex);
            }
        }
    }

    /// <summary>The request to <paramref name="path"/> of <paramref name="agentUrl"/>; without a client (configuration error) the content is disposed and the call refused.</summary>
    private HttpRequestMessage Request(HttpMethod method, string agentUrl, string path, HttpContent? content)
    {
        if (_http is null)
        {
            content?.Dispose();
            throw new AgentCallException($"cannot call agent {agentUrl}: {_configurationError}");
        }

        return new HttpRequestMessage(method, new Uri(new Uri(agentUrl.TrimEnd('/') + "/"), path)) { Content = content };
    }

    /// <summary>Sends <paramref name="request"/> and returns once the answer's headers are in; a transport failure means the agent is unreachable.</summary>
    private async Task<HttpResponseMessage> StartAsync(HttpRequestMessage request, string agentUrl, CancellationToken cancellationToken)
    {
        try
        {
            return await _http!.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new AgentCallException($"agent {agentUrl} is unreachable: {Innermost(ex)}", null, ex);
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string agentUrl, string path, HttpContent? content, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = Request(method, agentUrl, path, content);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            cts.CancelAfter(timeout);
        }

        HttpResponseMessage response;
        try
        {
            response = await StartAsync(request, agentUrl, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentCallException($"agent {agentUrl} did not answer {method} /{path} within {timeout}", null, ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new AgentCallException($"agent {agentUrl} refused {method} /{path} ({(int)response.StatusCode}): {ProblemDetail(body)}", response.StatusCode);
            }

            try
            {
                return JsonSerializer.Deserialize<T>(body, AgentProtocol.Json)
                    ?? throw new AgentCallException($"agent {agentUrl} returned an empty answer to {method} /{path}", response.StatusCode);
            }
            catch (JsonException ex)
            {
                throw new AgentCallException($"agent {agentUrl} returned malformed JSON to {method} /{path}", response.StatusCode, ex);
            }
        }
    }

    private static string ProblemDetail(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length > 300 ? body[..300] : body;
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex.Message;
    }
}
