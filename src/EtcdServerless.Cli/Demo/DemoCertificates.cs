using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EtcdServerless.Cli.Demo;

/// <summary>One issued certificate as PEM files (the key file is readable by the owner only).</summary>
internal sealed record DemoCertificateFiles(string CertFile, string KeyFile);

/// <summary>
/// A throwaway PKI for the demo's mutual TLS between the orchestrator and the member agents: a short-lived CA,
/// one server certificate per agent (loopback SANs) and one client certificate for the orchestrator. Nothing
/// here is fit for production: the CA key is never written, and everything expires in two days.
/// </summary>
internal static class DemoCertificates
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Writes <c>ca.crt</c>, <c>agent-N.crt/.key</c> and <c>orchestrator.crt/.key</c> into <paramref name="directory"/>.</summary>
    public static (string CaFile, IReadOnlyList<DemoCertificateFiles> Agents, DemoCertificateFiles Orchestrator) Create(string directory, int agents)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=etcd-backup demo CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(2));
        var caFile = Path.Combine(directory, "ca.crt");
        File.WriteAllText(caFile, ca.ExportCertificatePem() + "\n");

        var issued = new List<DemoCertificateFiles>();
        for (var i = 1; i <= agents; i++)
        {
            issued.Add(Issue(ca, directory, $"agent-{i}", $"etcd-backup-agent-{i}", ServerAuthOid, serial: i + 1, loopbackNames: true));
        }

        var orchestrator = Issue(ca, directory, "orchestrator", "etcd-backup-orchestrator", ClientAuthOid, serial: agents + 2, loopbackNames: false);
        return (caFile, issued, orchestrator);
    }

    private static DemoCertificateFiles Issue(X509Certificate2 ca, string directory, string fileName, string commonName, string usage, int serial, bool loopbackNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        if (loopbackNames)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddIpAddress(IPAddress.IPv6Loopback);
            san.AddDnsName("localhost");
            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), BitConverter.GetBytes(serial));

        var files = new DemoCertificateFiles(Path.Combine(directory, fileName + ".crt"), Path.Combine(directory, fileName + ".key"));
        File.WriteAllText(files.CertFile, certificate.ExportCertificatePem() + "\n");
        WriteOwnerOnly(files.KeyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return files;
    }

    // Create the key file with 0600 from the start, so the key is never readable by others, even briefly.
    private static void WriteOwnerOnly(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(content);
    }
}
