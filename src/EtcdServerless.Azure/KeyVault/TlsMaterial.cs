using System.Security.Cryptography.X509Certificates;

namespace EtcdServerless.Azure.KeyVault;

/// <summary>
/// TLS material read from Key Vault and held only in memory: the CA bundle to trust and the client
/// certificate with its private key. Either may be absent (a CA alone, or a client certificate verified
/// against the system roots).
/// </summary>
internal sealed class TlsMaterial : IDisposable
{
    public TlsMaterial(X509Certificate2Collection? trustedCa, X509Certificate2? clientCertificate)
    {
        TrustedCa = trustedCa;
        ClientCertificate = clientCertificate;
    }

    /// <summary>Certificates of the CA bundle, or null to use the system roots.</summary>
    public X509Certificate2Collection? TrustedCa { get; }

    /// <summary>The client certificate with its private key, or null for no client authentication.</summary>
    public X509Certificate2? ClientCertificate { get; }

    public void Dispose()
    {
        ClientCertificate?.Dispose();
        foreach (var certificate in TrustedCa ?? [])
        {
            certificate.Dispose();
        }
    }
}

/// <summary>What <see cref="KeyVaultTlsResolver"/> resolved: per cluster name, and for the restore agents.</summary>
internal sealed class ResolvedTlsMaterial : IDisposable
{
    public ResolvedTlsMaterial(IReadOnlyDictionary<string, TlsMaterial> clusters, TlsMaterial? restoreAgent)
    {
        Clusters = clusters;
        RestoreAgent = restoreAgent;
    }

    /// <summary>Clusters whose Tls settings named Key Vault secrets (the others read files as before).</summary>
    public IReadOnlyDictionary<string, TlsMaterial> Clusters { get; }

    /// <summary>Restore:AgentTls from Key Vault, or null when those settings are file paths or unset.</summary>
    public TlsMaterial? RestoreAgent { get; }

    public void Dispose()
    {
        foreach (var material in Clusters.Values)
        {
            material.Dispose();
        }

        RestoreAgent?.Dispose();
    }
}
