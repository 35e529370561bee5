using System.Security.Cryptography.X509Certificates;

namespace EtcdServerless.Etcd.Client;

/// <summary>How to reach and authenticate to one etcd member.</summary>
internal sealed record EtcdClientOptions
{
    /// <summary>The member's client URL: http://host:2379 (h2c) or https://host:2379.</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>PEM CA bundle that signs the server certificate (custom trust); null uses the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate (etcd <c>--client-cert-auth</c>).</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>
    /// CA certificates to trust, already in memory (TLS settings resolved from Key Vault); instead of
    /// <see cref="CaFile"/>, never with it. Owned by the caller: channels use them and do not dispose them.
    /// </summary>
    public X509Certificate2Collection? TrustedCa { get; init; }

    /// <summary>
    /// Client certificate with its private key, already in memory; instead of <see cref="CertFile"/> and
    /// <see cref="KeyFile"/>, never with them. Owned by the caller.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>User for etcd auth; null sends no token.</summary>
    public string? Username { get; init; }

    /// <summary>Password of <see cref="Username"/>.</summary>
    public string? Password { get; init; }

    /// <summary>Time allowed to open the connection (TCP + TLS).</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Deadline of each unary call (streams are bounded by cancellation instead).</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A copy pointing at another member with the same TLS material and credentials.</summary>
    public EtcdClientOptions ForEndpoint(Uri endpoint) => this with { Endpoint = endpoint };

    /// <summary>Parses <c>user:password</c> (etcdctl's <c>--user</c> form); the password may contain ':'.</summary>
    public static (string User, string Password) ParseUser(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new ArgumentException("--user must be USER:PASSWORD.");
        }

        return (value[..colon], value[(colon + 1)..]);
    }

    /// <summary>Parses a comma-separated endpoint list into absolute http(s) URIs.</summary>
    public static IReadOnlyList<Uri> ParseEndpoints(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var list = new List<Uri>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = part.Contains("://", StringComparison.Ordinal) ? part : "http://" + part;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"'{part}' is not an http:// or https:// endpoint.");
            }

            list.Add(uri);
        }

        return list.Count > 0 ? list : throw new ArgumentException("At least one endpoint is required.");
    }
}
