using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;

namespace EtcdServerless.Etcd.Client;

/// <summary>
/// One Grpc.Net.Client channel to one etcd member, with this product's transport rules: trust only the
/// configured CA bundle, an optional client certificate (mutual TLS), keepalive pings inside etcd's ping policy,
/// a connect timeout and a large HTTP/2 stream window for snapshot throughput.
/// </summary>
internal sealed class EtcdChannel : IDisposable
{
    // A snapshot is one long server stream: starting at .NET's 64 KiB initial window the member waits on
    // WINDOW_UPDATEs until dynamic sizing catches up (docs/benchmarks.md). 2 MiB still covers the
    // bandwidth-delay product of any link a member is on (2 GB/s at 1 ms), and it is also what the handler
    // holds unread whenever the backup's pipeline is slower than the member, which is the common case: with
    // 8 MiB that buffer was the part of the CLI's peak RSS that grew when the machine was busy (issue 10).
    internal const int StreamWindowSize = 2 * 1024 * 1024;

    // etcd Range replies can be large (a whole prefix); etcd's own default request limit is 1.5 MiB.
    private const int MaxReceiveMessageSize = 256 * 1024 * 1024;

    private readonly X509Certificate2Collection _owned;

    private EtcdChannel(GrpcChannel channel, string endpoint, X509Certificate2Collection owned)
    {
        Channel = channel;
        Endpoint = endpoint;
        _owned = owned;
    }

    /// <summary>The channel the generated etcd clients call through.</summary>
    public GrpcChannel Channel { get; }

    /// <summary>scheme://host:port of the member, used in messages.</summary>
    public string Endpoint { get; }

    /// <summary>Builds the channel for <see cref="EtcdClientOptions.Endpoint"/>.</summary>
    /// <exception cref="ArgumentException">Bad scheme, TLS files on an http:// endpoint, a CA file without a certificate, half a key pair.</exception>
    public static EtcdChannel Create(EtcdClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Endpoint;
        var scheme = address.Scheme;
        if (scheme != Uri.UriSchemeHttp && scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"etcd endpoint '{address}' must be http:// or https://.", nameof(options));
        }

        if (scheme == Uri.UriSchemeHttp && (options.CaFile is not null || options.CertFile is not null || options.KeyFile is not null
            || options.TrustedCa is not null || options.ClientCertificate is not null))
        {
            throw new ArgumentException($"TLS material was given but endpoint '{address}' is http://; use https://.", nameof(options));
        }

        if (options.TrustedCa is not null && options.CaFile is not null)
        {
            throw new ArgumentException("Give the CA as a file or as certificates, not both.", nameof(options));
        }

        if (options.ClientCertificate is not null && (options.CertFile is not null || options.KeyFile is not null))
        {
            throw new ArgumentException("Give the client certificate as files or as a certificate, not both.", nameof(options));
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.DialTimeout,
            // etcd (grpc-go) sends GOAWAY "too_many_pings" to a client pinging more often than every 5 s or
            // without an active stream; 30 s with active calls only stays well inside that policy.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = StreamWindowSize,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };

        var owned = new X509Certificate2Collection();
        try
        {
            if (scheme == Uri.UriSchemeHttps)
            {
                ConfigureTls(handler.SslOptions, options, owned);
            }

            var grpc = GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = MaxReceiveMessageSize,
            });
            return new EtcdChannel(grpc, address.GetLeftPart(UriPartial.Authority), owned);
        }
        catch
        {
            handler.Dispose();
            DisposeAll(owned);
            throw;
        }
    }

    public void Dispose()
    {
        Channel.Dispose();
        DisposeAll(_owned);
    }

    private static void DisposeAll(X509Certificate2Collection certificates)
    {
        foreach (var certificate in certificates)
        {
            certificate.Dispose();
        }
    }

    private static void ConfigureTls(SslClientAuthenticationOptions ssl, EtcdClientOptions options, X509Certificate2Collection owned)
    {
        ssl.ApplicationProtocols = [SslApplicationProtocol.Http2];
        if (options.TrustedCa is { } trusted)
        {
            // In-memory roots belong to the caller (resolved once per process); the channel does not own them.
            if (trusted.Count == 0)
            {
                throw new ArgumentException("The trusted CA collection holds no certificate.", nameof(options));
            }

            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted);
        }
        else if (options.CaFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(options.CaFile);
            owned.AddRange(roots);
            if (roots.Count == 0)
            {
                throw new ArgumentException($"CA file '{options.CaFile}' holds no certificate.", nameof(options));
            }

            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, roots);
        }

        if (options.ClientCertificate is { } client)
        {
            if (!client.HasPrivateKey)
            {
                throw new ArgumentException("The client certificate has no private key.", nameof(options));
            }

            ssl.ClientCertificates = [client];
        }
        else if (options.CertFile is not null || options.KeyFile is not null)
        {
            if (options.CertFile is null || options.KeyFile is null)
            {
                throw new ArgumentException("A client certificate needs both a certificate file and a key file.", nameof(options));
            }

            var certificate = X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile);
            owned.Add(certificate);
            ssl.ClientCertificates = [certificate];
        }
    }

    /// <summary>
    /// The server certificate must chain to one of <paramref name="roots"/> (and only those: the machine's store
    /// is not consulted) and match the host name. The platform's chain verdict is ignored because it used the
    /// system store; the name check is kept.
    /// </summary>
    internal static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is not X509Certificate2 leaf
            || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        var ok = chain.Build(leaf);
        foreach (var element in chain.ChainElements)
        {
            // The chain hands out its own copies; the leaf belongs to SslStream.
            if (!ReferenceEquals(element.Certificate, leaf))
            {
                element.Certificate.Dispose();
            }
        }

        return ok;
    }
}
