using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Testing.Etcd;

/// <summary>Client options and clients pointing at this cluster, with its TLS material and root credentials.</summary>
public sealed partial class EtcdTestCluster
{
    /// <summary>Options for member <paramref name="index"/> (CA, client cert under mTLS, root user under auth).</summary>
    internal EtcdClientOptions ClientOptions(int index = 0) => new()
    {
        Endpoint = new Uri(_members[index].ClientUrl),
        CaFile = Certificates?.CaCertPath,
        CertFile = Options.Security == EtcdTestSecurity.MutualTls ? Certificates!.Client.CertPath : null,
        KeyFile = Options.Security == EtcdTestSecurity.MutualTls ? Certificates!.Client.KeyPath : null,
        Username = Options.EnableAuth ? "root" : null,
        Password = Options.EnableAuth ? Options.RootPassword : null,
    };

    /// <summary>A client for member <paramref name="index"/>; the caller disposes it.</summary>
    internal EtcdClient CreateClient(int index = 0) => new(ClientOptions(index));

    /// <summary>Every member's client URL as URIs.</summary>
    internal IReadOnlyList<Uri> ClientUris => [.. _members.Select(m => new Uri(m.ClientUrl))];
}
