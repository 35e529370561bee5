using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using Grpc.Core;

namespace EtcdServerless.Etcd.Tests.Client;

[Trait("Category", "Etcd")]
public sealed class EtcdChannelTests
{
    [Fact]
    public async Task StatusAsync_TlsWithCustomCa_Succeeds()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.Tls });
        await using var client = cluster.CreateClient();

        var status = await client.StatusAsync();
        await client.PutAsync("tls", "yes");

        Assert.NotEqual(0ul, status.Leader);
        Assert.Equal("yes", (await client.GetAsync("tls"))!.ValueString);
    }

    [Fact]
    public async Task Calls_MutualTlsWithInMemoryCertificates_SucceedAndCallerKeepsThem()
    {
        // Key Vault-resolved material: no file path reaches the channel.
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.MutualTls });
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(cluster.CaCertPath!);
        using var certificate = X509Certificate2.CreateFromPemFile(cluster.ClientCertPath!, cluster.ClientKeyPath!);
        var options = cluster.ClientOptions() with { CaFile = null, CertFile = null, KeyFile = null, TrustedCa = roots, ClientCertificate = certificate };

        await using (var client = new EtcdClient(options))
        {
            await client.PutAsync("in-memory", "ok");
        }

        // The channel is gone; the certificates are the caller's and still usable by the next client.
        await using var again = new EtcdClient(options);
        Assert.Equal("ok", (await again.GetAsync("in-memory"))!.ValueString);
        Assert.True(certificate.HasPrivateKey);
        foreach (var root in roots)
        {
            root.Dispose();
        }
    }

    [Fact]
    public async Task StatusAsync_InMemoryWrongCa_ThrowsUnavailable()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.Tls });
        using var otherPki = TestCertificates.Create();
        await using var client = new EtcdClient(cluster.ClientOptions() with { CaFile = null, TrustedCa = [otherPki.CaCertificate] });

        await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.StatusAsync());
    }

    [Fact]
    public void Create_InMemoryAndFileMaterialTogether_ThrowsArgument()
    {
        using var pki = TestCertificates.Create();
        using var certificate = X509Certificate2.CreateFromPemFile(pki.Client.CertPath, pki.Client.KeyPath);
        var https = new Uri("https://127.0.0.1:1");

        Assert.Throws<ArgumentException>(() => EtcdChannel.Create(new EtcdClientOptions { Endpoint = https, CaFile = pki.CaCertPath, TrustedCa = [pki.CaCertificate] }));
        Assert.Throws<ArgumentException>(() => EtcdChannel.Create(new EtcdClientOptions { Endpoint = https, CertFile = pki.Client.CertPath, KeyFile = pki.Client.KeyPath, ClientCertificate = certificate }));
        Assert.Throws<ArgumentException>(() => EtcdChannel.Create(new EtcdClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), TrustedCa = [pki.CaCertificate] }));
        Assert.Throws<ArgumentException>(() => EtcdChannel.Create(new EtcdClientOptions { Endpoint = https, TrustedCa = [] }));
        using var publicOnly = X509CertificateLoader.LoadCertificate(pki.Client.Certificate.RawData);
        Assert.Throws<ArgumentException>(() => EtcdChannel.Create(new EtcdClientOptions { Endpoint = https, ClientCertificate = publicOnly }));
    }

    [Fact]
    public async Task StatusAsync_TlsWithoutTrustedCa_ThrowsUnavailableWithAuthenticationCause()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.Tls });
        await using var client = new EtcdClient(cluster.ClientOptions() with { CaFile = null });

        var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.StatusAsync());

        Assert.NotNull(ex.InnerException);
    }

    [Fact]
    public async Task StatusAsync_TlsWithWrongCa_ThrowsUnavailableNamingTheCertificate()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.Tls });
        using var otherPki = TestCertificates.Create();
        await using var client = new EtcdClient(cluster.ClientOptions() with { CaFile = otherPki.CaCertPath });

        var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.StatusAsync());

        Assert.Contains("certificate was refused", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusAsync_HttpsUrlForAPlainMember_SaysToUseHttp()
    {
        // Once only "Received an unexpected EOF or 0 bytes from the transport stream".
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        var https = new UriBuilder(cluster.ClientUris[0]) { Scheme = "https" }.Uri;
        await using var client = new EtcdClient(cluster.ClientOptions() with { Endpoint = https });

        var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.StatusAsync());

        Assert.Contains("use an http:// endpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_MutualTls_SucceedWithClientCertificateAndFailWithout()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Security = EtcdTestSecurity.MutualTls });
        await using var withCert = cluster.CreateClient();
        await using var withoutCert = new EtcdClient(cluster.ClientOptions() with { CertFile = null, KeyFile = null });

        await withCert.PutAsync("mtls", "ok");

        Assert.Equal("ok", (await withCert.GetAsync("mtls"))!.ValueString);
        await Assert.ThrowsAsync<EtcdUnavailableException>(() => withoutCert.GetAsync("mtls"));
    }

    [Fact]
    public void Constructor_TlsFilesWithHttpEndpoint_ThrowsArgumentException()
    {
        using var pki = TestCertificates.Create();

        Assert.Throws<ArgumentException>(() => new EtcdClient(new EtcdClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), CaFile = pki.CaCertPath }));
        Assert.Throws<ArgumentException>(() => new EtcdClient(new EtcdClientOptions { Endpoint = new Uri("ftp://127.0.0.1:1") }));
        Assert.Throws<ArgumentException>(() => new EtcdClient(new EtcdClientOptions { Endpoint = new Uri("https://127.0.0.1:1"), CertFile = pki.Client.CertPath }));
    }

    [Fact]
    public async Task StatusAsync_NothingListening_ThrowsUnavailable()
    {
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri($"http://127.0.0.1:{FreePorts.Next()}"), DialTimeout = TimeSpan.FromSeconds(2) });

        var ex = await Assert.ThrowsAsync<EtcdUnavailableException>(() => client.StatusAsync());

        var rpc = Assert.IsType<RpcException>(ex.InnerException);
        Assert.Equal(StatusCode.Unavailable, rpc.StatusCode);
        Assert.NotNull(rpc.Status.DebugException);
        Assert.Equal(GrpcStatusCode.Unavailable, ex.StatusCode);
    }

    [Fact]
    public async Task StatusAsync_ServerNeverAnswers_ThrowsDeadlineExceeded()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        var acceptLoop = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await listener.AcceptSocketAsync());
                }
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        });
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri($"http://127.0.0.1:{port}"), CallTimeout = TimeSpan.FromMilliseconds(500) });

        await Assert.ThrowsAsync<EtcdDeadlineExceededException>(() => client.StatusAsync());

        listener.Stop();
        await acceptLoop;
        accepted.ForEach(s => s.Dispose());
    }

    [Fact]
    public async Task StatusAsync_UserCancels_ThrowsOperationCanceled()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await using var client = cluster.CreateClient();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.StatusAsync(cts.Token));
    }
}
