using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace EtcdServerless.Testing.Etcd;

/// <summary>
/// A throw-away PKI for tests: one CA, a server certificate for loopback (SAN 127.0.0.1, ::1, localhost) and a
/// client certificate with CN=root (etcd maps the CN to the user under <c>--client-cert-auth</c>), all written as
/// PEM files into <see cref="Directory"/> (keys 0600). More leaves can be issued with <see cref="Issue"/>.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly X509Certificate2 _ca;
    private readonly bool _ownsDirectory;
    private int _serial = 1;

    private TestCertificates(string directory, bool ownsDirectory)
    {
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        System.IO.Directory.CreateDirectory(directory);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=EtcdServerless Test CA", caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        _ca = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        CaCertPath = Path.Combine(directory, "ca.crt");
        File.WriteAllText(CaCertPath, _ca.ExportCertificatePem() + "\n");

        Server = Issue("server", "127.0.0.1", server: true, client: true, dnsNames: ["localhost"],
            ipAddresses: [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        Client = Issue("client", "root", server: false, client: true);
    }

    /// <summary>Folder holding every PEM file.</summary>
    public string Directory { get; }

    /// <summary>CA certificate (PEM), to pass as <c>--trusted-ca-file</c> / <c>--cacert</c>.</summary>
    public string CaCertPath { get; }

    /// <summary>The CA certificate (public part), e.g. for custom trust in an HttpClient.</summary>
    public X509Certificate2 CaCertificate => _ca;

    /// <summary>Server certificate for 127.0.0.1 / ::1 / localhost (also usable as client: etcd peers need both).</summary>
    public IssuedCertificate Server { get; }

    /// <summary>Client certificate with CN=root.</summary>
    public IssuedCertificate Client { get; }

    /// <summary>Creates the CA and default leaves in a new temp folder (deleted on dispose).</summary>
    public static TestCertificates Create()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"etcdsl-certs-{Guid.NewGuid():N}");
        return new TestCertificates(dir, ownsDirectory: true);
    }

    /// <summary>Creates the CA and default leaves in <paramref name="directory"/> (left in place on dispose).</summary>
    public static TestCertificates CreateIn(string directory) => new(directory, ownsDirectory: false);

    /// <summary>
    /// Issues a leaf signed by the CA and writes <c>{fileName}.crt</c> and <c>{fileName}.key</c> (PKCS#8 PEM, 0600).
    /// </summary>
    public IssuedCertificate Issue(
        string fileName,
        string commonName,
        bool server,
        bool client,
        IEnumerable<string>? dnsNames = null,
        IEnumerable<IPAddress>? ipAddresses = null,
        TimeSpan? validFor = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedName($"CN={commonName}");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection();
        if (server)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        }

        if (client)
        {
            usages.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        var san = new SubjectAlternativeNameBuilder();
        var hasSan = false;
        foreach (var dns in dnsNames ?? [])
        {
            san.AddDnsName(dns);
            hasSan = true;
        }

        foreach (var ip in ipAddresses ?? [])
        {
            san.AddIpAddress(ip);
            hasSan = true;
        }

        if (hasSan)
        {
            request.CertificateExtensions.Add(san.Build());
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));

        var now = DateTimeOffset.UtcNow;
        var serial = BitConverter.GetBytes(Interlocked.Increment(ref _serial) + 1000);
        using var issued = request.Create(_ca, now.AddDays(-1), now.Add(validFor ?? TimeSpan.FromDays(365)), serial);
        var certificate = issued.CopyWithPrivateKey(key);

        var certPath = Path.Combine(Directory, fileName + ".crt");
        var keyPath = Path.Combine(Directory, fileName + ".key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n");
        WritePrivate(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return new IssuedCertificate(certPath, keyPath, certificate);
    }

    public void Dispose()
    {
        _ca.Dispose();
        Server.Certificate.Dispose();
        Client.Certificate.Dispose();
        if (_ownsDirectory)
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }
}

/// <summary>A leaf certificate on disk: PEM certificate, PEM PKCS#8 key and the loaded certificate (with key).</summary>
public sealed record IssuedCertificate(string CertPath, string KeyPath, X509Certificate2 Certificate);
