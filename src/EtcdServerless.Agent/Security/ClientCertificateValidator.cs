using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Agent.Configuration;

namespace EtcdServerless.Agent.Security;

/// <summary>
/// Decides, during the TLS handshake, whether a client certificate may call the agent: its SHA-256 (or SHA-1)
/// thumbprint is pinned, or it chains to the configured client CA and carries the client-auth usage. Anything else
/// fails the handshake, so no request of an unknown caller ever reaches an endpoint.
/// </summary>
internal sealed class ClientCertificateValidator
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private readonly HashSet<string> _pins;
    private readonly X509Certificate2Collection? _trustedRoots;

    public ClientCertificateValidator(AgentTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _pins = new HashSet<string>(
            options.AllowedClientThumbprints.Select(Normalize).Where(t => t.Length > 0),
            StringComparer.Ordinal);
        if (!string.IsNullOrWhiteSpace(options.ClientCaFile))
        {
            _trustedRoots = [];
            _trustedRoots.ImportFromPemFile(options.ClientCaFile);
            if (_trustedRoots.Count == 0)
            {
                throw new InvalidDataException($"Agent:Tls:ClientCaFile {options.ClientCaFile} holds no certificate.");
            }
        }

        if (_pins.Count == 0 && _trustedRoots is null)
        {
            throw new InvalidOperationException("The agent needs Agent:Tls:AllowedClientThumbprints or Agent:Tls:ClientCaFile: it never accepts unauthenticated callers.");
        }
    }

    /// <summary>The SHA-256 thumbprint (hex, lowercase) used for pinning.</summary>
    public static string Sha256Thumbprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));
    }

    /// <summary>Returns null when the certificate is allowed, otherwise why it is not.</summary>
    public string? Check(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return "no client certificate";
        }

        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
        {
            return "certificate is outside its validity period";
        }

        if (_pins.Contains(Sha256Thumbprint(certificate)) || _pins.Contains(certificate.Thumbprint.ToLowerInvariant()))
        {
            return null;
        }

        if (_trustedRoots is null)
        {
            return "thumbprint is not pinned";
        }

        if (!HasClientAuthUsage(certificate))
        {
            return "certificate lacks the client-authentication usage";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(_trustedRoots);
        return chain.Build(certificate) ? null : "certificate does not chain to the configured client CA";
    }

    private static bool HasClientAuthUsage(X509Certificate2 certificate)
    {
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        return eku is null || eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Any(o => o.Value == ClientAuthOid);
    }

    private static string Normalize(string thumbprint) =>
        new(thumbprint.Where(char.IsAsciiHexDigit).Select(char.ToLowerInvariant).ToArray());
}
