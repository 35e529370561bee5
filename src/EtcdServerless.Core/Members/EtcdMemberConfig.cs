namespace EtcdServerless.Core.Members;

/// <summary>
/// How to launch one etcd member as a child process: identity, URLs, bootstrap settings and TLS files. The
/// bootstrap settings (<see cref="InitialCluster"/>, token, state) only matter on an empty data dir; etcd ignores
/// them once the data dir holds a member (for example after a snapshot restore).
/// </summary>
public sealed record EtcdMemberConfig
{
    /// <summary>etcd <c>--name</c>.</summary>
    public required string Name { get; init; }

    /// <summary>etcd <c>--data-dir</c>.</summary>
    public required string DataDir { get; init; }

    /// <summary>Client URL to listen on and advertise (http:// or https://).</summary>
    public required string ClientUrl { get; init; }

    /// <summary>Peer URL to listen on and advertise.</summary>
    public required string PeerUrl { get; init; }

    /// <summary><c>--initial-cluster</c> (<c>name=peerUrl,...</c>); defaults to this member alone.</summary>
    public string? InitialCluster { get; init; }

    /// <summary><c>--initial-cluster-token</c>.</summary>
    public string InitialClusterToken { get; init; } = "etcd-cluster";

    /// <summary><c>--initial-cluster-state</c>: <c>new</c> or <c>existing</c>.</summary>
    public string InitialClusterState { get; init; } = "new";

    /// <summary>Server certificate for the client port (PEM); required for an https client URL.</summary>
    public string? CertFile { get; init; }

    /// <summary>Key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>CA that signs client certificates; set together with <see cref="ClientCertAuth"/>.</summary>
    public string? TrustedCaFile { get; init; }

    /// <summary>Require client certificates on the client port (<c>--client-cert-auth</c>).</summary>
    public bool ClientCertAuth { get; init; }

    /// <summary>Peer TLS certificate; required for an https peer URL.</summary>
    public string? PeerCertFile { get; init; }

    /// <summary>Key of <see cref="PeerCertFile"/>.</summary>
    public string? PeerKeyFile { get; init; }

    /// <summary>CA of peer certificates (enables <c>--peer-client-cert-auth</c>).</summary>
    public string? PeerTrustedCaFile { get; init; }

    /// <summary>Any further etcd flags, appended as given.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>File that receives etcd's stdout and stderr (appended); defaults to <c>&lt;dataDir&gt;.log</c>.</summary>
    public string? LogFile { get; init; }

    /// <summary>The log file actually used.</summary>
    public string EffectiveLogFile => LogFile ?? DataDir.TrimEnd('/', '\\') + ".log";

    /// <summary>The etcd command line (without the binary) for this configuration.</summary>
    public IReadOnlyList<string> ToArguments()
    {
        var args = new List<string>
        {
            "--name", Name,
            "--data-dir", DataDir,
            "--listen-client-urls", ClientUrl,
            "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", PeerUrl,
            "--initial-advertise-peer-urls", PeerUrl,
            "--initial-cluster", InitialCluster ?? $"{Name}={PeerUrl}",
            "--initial-cluster-token", InitialClusterToken,
            "--initial-cluster-state", InitialClusterState,
        };
        AddIf(args, "--cert-file", CertFile);
        AddIf(args, "--key-file", KeyFile);
        AddIf(args, "--trusted-ca-file", TrustedCaFile);
        if (ClientCertAuth)
        {
            args.Add("--client-cert-auth");
        }

        AddIf(args, "--peer-cert-file", PeerCertFile);
        AddIf(args, "--peer-key-file", PeerKeyFile);
        if (PeerTrustedCaFile is not null)
        {
            args.Add("--peer-trusted-ca-file");
            args.Add(PeerTrustedCaFile);
            args.Add("--peer-client-cert-auth");
        }

        args.AddRange(ExtraArguments);
        return args;
    }

    private static void AddIf(List<string> args, string flag, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            args.Add(flag);
            args.Add(value);
        }
    }
}
