using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace EtcdServerless.Core.Members;

/// <summary>
/// Asks an etcd member's <c>/health</c> endpoint (HTTP/1.1 on the client port) whether it serves requests; etcd
/// answers <c>{"health":"true"}</c> only when the member has a leader, so this is a quorum-aware check.
/// </summary>
internal sealed class EtcdHealthProbe : IDisposable
{
    private readonly HttpClient _http;

    public EtcdHealthProbe(string? caFile = null, string? certFile = null, string? keyFile = null)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) };
        if (caFile is not null || certFile is not null)
        {
            handler.SslOptions = BuildSsl(caFile, certFile, keyFile);
        }

        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(3) };
    }

    /// <summary>True when the member at <paramref name="clientUrl"/> reports itself healthy; false on any failure.</summary>
    public async Task<bool> IsHealthyAsync(string clientUrl, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(new Uri(clientUrl), "/health"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("health", out var health) && health.GetString() == "true";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    /// <summary>Polls until healthy or the timeout passes.</summary>
    public async Task<bool> WaitHealthyAsync(string clientUrl, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await IsHealthyAsync(clientUrl, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose() => _http.Dispose();

    private static SslClientAuthenticationOptions BuildSsl(string? caFile, string? certFile, string? keyFile)
    {
        var options = new SslClientAuthenticationOptions();
        if (certFile is not null && keyFile is not null)
        {
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(certFile, keyFile)];
        }

        if (caFile is not null)
        {
            var trust = new X509Certificate2Collection();
            trust.ImportFromPemFile(caFile);
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(trust);
        }

        return options;
    }
}
