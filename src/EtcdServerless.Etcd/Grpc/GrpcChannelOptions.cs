namespace EtcdServerless.Etcd.Grpc;

/// <summary>Connection settings of one <see cref="GrpcChannel"/> (one endpoint).</summary>
internal sealed record GrpcChannelOptions
{
    /// <summary>http:// (h2c with prior knowledge) or https:// (TLS, ALPN h2).</summary>
    public required Uri Address { get; init; }

    /// <summary>PEM bundle of CA certificates trusted for the server (custom root trust); null = system trust.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>TCP + TLS connect timeout.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest response message accepted (etcd Range replies can be large).</summary>
    public int MaxReceiveMessageSize { get; init; } = 256 * 1024 * 1024;
}
