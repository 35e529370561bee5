namespace EtcdServerless.Testing.Etcd;

/// <summary>How the client port of a test cluster is secured.</summary>
public enum EtcdTestSecurity
{
    /// <summary>Plain http:// (h2c).</summary>
    None,

    /// <summary>https:// with a server certificate from <see cref="TestCertificates"/>.</summary>
    Tls,

    /// <summary>https:// and <c>--client-cert-auth</c>: clients must present a certificate signed by the test CA.</summary>
    MutualTls,
}

/// <summary>Shape of an <see cref="EtcdTestCluster"/>.</summary>
public sealed record EtcdTestClusterOptions
{
    /// <summary>Number of members (1 or 3 in practice).</summary>
    public int Members { get; init; } = 1;

    /// <summary>Client port security.</summary>
    public EtcdTestSecurity Security { get; init; } = EtcdTestSecurity.None;

    /// <summary>Creates user root with <see cref="RootPassword"/> and runs <c>etcdctl auth enable</c>.</summary>
    public bool EnableAuth { get; init; }

    /// <summary>Password of the root user when <see cref="EnableAuth"/> is set.</summary>
    public string RootPassword { get; init; } = "root-secret-pw";

    /// <summary>Extra arguments appended to every member's etcd command line (e.g. <c>--auth-token-ttl=2</c>).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>How long to wait for the cluster to elect a leader.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
