using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace EtcdServerless.Agent.Tests;

/// <summary>
/// One real agent over mutual TLS, in custom-command mode (a marker file stands for the running member) so the
/// idempotency rules can be driven step by step; the restore itself runs the real etcdctl on a real snapshot.
/// </summary>
public sealed partial class AgentApiTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("etcdsl-agent");
    private TestCertificates _certs = null!;
    private WebApplication _app = null!;
    private AgentOptions _options = null!;
    private HttpClient _http = null!;
    private string _snapshot = null!;
    private string _sha = null!;

    private string Marker => _temp.Combine("running");

    public async Task InitializeAsync()
    {
        _certs = TestCertificates.CreateIn(_temp.Combine("certs"));
        _snapshot = await MakeSnapshotAsync(_temp);
        _sha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(_snapshot)));
        var dataDir = _temp.Combine("member.etcd");
        Directory.CreateDirectory(dataDir);
        await File.WriteAllTextAsync(Path.Combine(dataDir, "original.txt"), "original");
        await File.WriteAllTextAsync(Marker, "");
        _options = new AgentOptions
        {
            MemberName = "m1",
            DataDir = dataDir,
            ListenUrl = $"https://127.0.0.1:{FreePorts.Next()}",
            ControlMode = MemberControlMode.Custom,
            Custom = new CustomControlOptions { StopCommand = $"rm -f {Marker}", StartCommand = $"touch {Marker}", StatusCommand = $"test -f {Marker}" },
            Tls = new AgentTlsOptions { CertFile = _certs.Server.CertPath, KeyFile = _certs.Server.KeyPath, ClientCaFile = _certs.CaCertPath },
        };
        _app = AgentHost.Build(_options, logging: _ => { });
        await AgentHost.StartAsync(_app);
        _http = Client(_certs.Client.Certificate);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certs.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Steps_RepeatedWithTheSameRestoreId_AreIdempotent()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url("v1/restores/r1/stop"), null)).StatusCode);
        Assert.False(File.Exists(Marker));
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url("v1/restores/r1/stop"), null)).StatusCode);

        var first = await UploadAsync("r1", _sha);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var again = await UploadAsync("r1", _sha);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var status = await ReadAsync(again);
        Assert.Equal(AgentRestoreState.SnapshotReceived, status.State);
        Assert.Single(status.Steps, s => s.Name == "upload");

        var request = RestoreRequest();
        var restored = await _http.PostAsJsonAsync(Url("v1/restores/r1/restore"), request, AgentProtocol.Json);
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        Assert.Equal(3, (await ReadAsync(restored)).SnapshotLiveKeys);
        var repeat = await _http.PostAsJsonAsync(Url("v1/restores/r1/restore"), request, AgentProtocol.Json);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Single((await ReadAsync(repeat)).Steps, s => s.Name == "restore");
        Assert.True(File.Exists(Path.Combine(_options.DataDir, "member", "snap", "db")));
        Assert.True(File.Exists(Path.Combine(_options.DataDir + ".before-r1", "original.txt")));

        var different = await _http.PostAsJsonAsync(Url("v1/restores/r1/restore"), request with { Token = "other" }, AgentProtocol.Json);
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);
        Assert.Equal("application/problem+json", different.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url("v1/restores/r1/start"), null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url("v1/restores/r1/start"), null)).StatusCode);
        Assert.True(File.Exists(Marker));
        var final = await _http.GetFromJsonAsync<AgentRestoreStatus>(Url("v1/restores/r1"), AgentProtocol.Json);
        Assert.Equal(AgentRestoreState.Started, final!.State);
        Assert.True(final.MemberRunning);
    }

    [Fact]
    public async Task Rollback_AfterTheSwap_PutsTheOriginalDataDirBackAndKeepsTheRestoredOne()
    {
        await _http.PostAsync(Url("v1/restores/r2/stop"), null);
        await UploadAsync("r2", _sha);
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync(Url("v1/restores/r2/restore"), RestoreRequest(), AgentProtocol.Json)).StatusCode);

        var rolledBack = await _http.PostAsync(Url("v1/restores/r2/rollback"), null);
        Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
        Assert.Equal(AgentRestoreState.RolledBack, (await ReadAsync(rolledBack)).State);
        Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(_options.DataDir, "original.txt")));
        Assert.True(Directory.Exists(_options.DataDir + ".rolledback-r2"));
        Assert.True(File.Exists(Marker));
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url("v1/restores/r2/rollback"), null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _http.PostAsync(Url("v1/restores/r2/stop"), null)).StatusCode);
    }

    [Fact]
    public async Task Upload_WithAWrongHashOrACorruptedBody_IsRefusedAndNotKept()
    {
        await _http.PostAsync(Url("v1/restores/r3/stop"), null);
        var wrong = await UploadAsync("r3", new string('0', 64));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Contains("mismatch", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var bytes = await File.ReadAllBytesAsync(_snapshot);
        bytes[5000] ^= 0xFF;
        using var corrupted = new ByteArrayContent(bytes);
        corrupted.Headers.Add(AgentProtocol.SnapshotSha256Header, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        var bad = await _http.PutAsync(Url("v1/restores/r3/snapshot"), corrupted);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("not an intact etcd snapshot", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(File.Exists(_options.DataDir + ".restore-r3.snap"));

        var missing = await _http.PutAsync(Url("v1/restores/r3/snapshot"), new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var early = await _http.PostAsJsonAsync(Url("v1/restores/r3/restore"), RestoreRequest(), AgentProtocol.Json);
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
    }

    [Fact]
    public async Task BadInputs_GetProblemDetails()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.PostAsync(Url("v1/restores/..bad/stop"), null)).StatusCode);
        await _http.PostAsync(Url("v1/restores/r4/stop"), null);
        await UploadAsync("r4", _sha);
        var bump = await _http.PostAsJsonAsync(Url("v1/restores/r4/restore"), RestoreRequest() with { BumpRevision = 1000 }, AgentProtocol.Json);
        Assert.Equal(HttpStatusCode.BadRequest, bump.StatusCode);
        Assert.Contains("--bump-revision", await bump.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var notInCluster = await _http.PostAsJsonAsync(Url("v1/restores/r4/restore"), RestoreRequest() with { InitialCluster = "x=http://127.0.0.1:1" }, AgentProtocol.Json);
        Assert.Equal(HttpStatusCode.BadRequest, notInCluster.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(Url("v1/restores/nope"))).StatusCode);
    }

    [Theory]
    [InlineData("../../../tmp/evilname")]
    [InlineData("m2")]
    public async Task Restore_NameOfAnotherMember_IsRefused(string name)
    {
        await _http.PostAsync(Url("v1/restores/r8/stop"), null);
        await UploadAsync("r8", _sha);

        var response = await _http.PostAsJsonAsync(
            Url("v1/restores/r8/restore"), RestoreRequest() with { Name = name, InitialCluster = $"{name}=http://127.0.0.1:23801" }, AgentProtocol.Json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not this agent's member 'm1'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(_options.DataDir, "original.txt")));
        Assert.False(Directory.Exists(_options.DataDir + ".restore-r8"));
    }

    [Fact]
    public async Task Restore_ThreeTimes_KeepsOnlyTheNewestReplacedDataDir()
    {
        foreach (var id in new[] { "k1", "k2", "k3" })
        {
            await _http.PostAsync(Url($"v1/restores/{id}/stop"), null);
            Assert.Equal(HttpStatusCode.OK, (await UploadAsync(id, _sha)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _http.PostAsJsonAsync(Url($"v1/restores/{id}/restore"), RestoreRequest(), AgentProtocol.Json)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(Url($"v1/restores/{id}/start"), null)).StatusCode);
        }

        var kept = Directory.GetDirectories(Path.GetDirectoryName(_options.DataDir)!, Path.GetFileName(_options.DataDir) + ".before-*");
        Assert.Equal([_options.DataDir + ".before-k3"], kept);
    }

    [Fact]
    public async Task Preflight_ReportsToolsSpaceAndTheMember()
    {
        var preflight = await _http.GetFromJsonAsync<AgentPreflight>(Url("v1/preflight?snapshotSize=1000"), AgentProtocol.Json);
        Assert.Equal("m1", preflight!.MemberName);
        Assert.StartsWith("3.4", preflight.EtcdVersion, StringComparison.Ordinal);
        Assert.True(preflight.EtcdctlPresent);
        Assert.False(preflight.SupportsBumpRevision);
        Assert.True(preflight.EnoughSpace);
        Assert.True(preflight.MemberRunning);
        var huge = await _http.GetFromJsonAsync<AgentPreflight>(Url($"v1/preflight?snapshotSize={long.MaxValue / 4}"), AgentProtocol.Json);
        Assert.False(huge!.EnoughSpace);
        Assert.NotEmpty(huge.Problems);
    }

    [Fact]
    public async Task Tls_WithoutAClientCertificateOrWithAForeignOne_IsRefusedAtTheHandshake()
    {
        using var none = Client(null);
        await Assert.ThrowsAsync<HttpRequestException>(() => none.GetAsync(Url("v1/preflight")));
        using var foreignCa = TestCertificates.Create();
        using var foreign = Client(foreignCa.Client.Certificate);
        await Assert.ThrowsAsync<HttpRequestException>(() => foreign.GetAsync(Url("v1/preflight")));
        Assert.True(File.Exists(Marker));
    }

    [Fact]
    public async Task Tls_PinnedThumbprints_AcceptOnlyThePinnedCertificate()
    {
        var pinned = _certs.Issue("pinned", "pinned", server: false, client: true);
        var other = _certs.Issue("other", "other", server: false, client: true);
        var options = new AgentOptions
        {
            MemberName = "p1",
            DataDir = _temp.Combine("p1.etcd"),
            ListenUrl = $"https://127.0.0.1:{FreePorts.Next()}",
            ControlMode = MemberControlMode.Custom,
            Custom = _options.Custom,
            Tls = new AgentTlsOptions
            {
                CertFile = _certs.Server.CertPath,
                KeyFile = _certs.Server.KeyPath,
                AllowedClientThumbprints = [Convert.ToHexString(pinned.Certificate.GetCertHash(HashAlgorithmName.SHA256))],
            },
        };
        await using var app = AgentHost.Build(options, logging: _ => { });
        await AgentHost.StartAsync(app);
        var url = new Uri(options.ListenUrl + "/v1/preflight");
        using var good = Client(pinned.Certificate);
        Assert.Equal(HttpStatusCode.OK, (await good.GetAsync(url)).StatusCode);
        using var bad = Client(other.Certificate);
        await Assert.ThrowsAsync<HttpRequestException>(() => bad.GetAsync(url));
        await app.StopAsync();
    }

    [Fact]
    public void Build_WithoutAnyClientTrust_Fails()
    {
        var options = new AgentOptions
        {
            MemberName = "x",
            DataDir = _temp.Combine("x.etcd"),
            ListenUrl = $"https://127.0.0.1:{FreePorts.Next()}",
            ControlMode = MemberControlMode.Custom,
            Custom = _options.Custom,
            Tls = new AgentTlsOptions { CertFile = _certs.Server.CertPath, KeyFile = _certs.Server.KeyPath },
        };
        var ex = Assert.Throws<InvalidOperationException>(() => AgentHost.Build(options, logging: _ => { }));
        Assert.Contains("never accepts unauthenticated callers", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => AgentHost.Build(new AgentOptions { MemberName = "x" }, logging: _ => { }));
    }

    private MemberRestoreRequest RestoreRequest() => new()
    {
        Name = "m1",
        InitialCluster = "m1=http://127.0.0.1:23801",
        InitialAdvertisePeerUrls = "http://127.0.0.1:23801",
        Token = "tok",
    };

    private Uri Url(string path) => new(new Uri(_options.ListenUrl + "/"), path);

    private async Task<HttpResponseMessage> UploadAsync(string id, string sha)
    {
        var content = new StreamContent(File.OpenRead(_snapshot));
        content.Headers.Add(AgentProtocol.SnapshotSha256Header, sha);
        return await _http.PutAsync(Url($"v1/restores/{id}/snapshot"), content);
    }

    private static async Task<AgentRestoreStatus> ReadAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize<AgentRestoreStatus>(await response.Content.ReadAsStringAsync(), AgentProtocol.Json)!;

    private HttpClient Client(X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
                CertificateChainPolicy = TrustTestCa(),
            },
        };
        return new HttpClient(handler);
    }

    private X509ChainPolicy TrustTestCa()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(_certs.CaCertificate);
        return policy;
    }

    /// <summary>A real snapshot of a one-member etcd holding three keys.</summary>
    internal static async Task<string> MakeSnapshotAsync(TempDirectory temp)
    {
        var etcdctl = RequiredTool.Find("etcdctl", "apt-get install etcd-client");
        RequiredTool.Find("etcd", "apt-get install etcd-server");
        var client = $"http://127.0.0.1:{FreePorts.Next()}";
        await using var etcd = new EtcdProcess(new EtcdMemberConfig { Name = "s1", DataDir = temp.Combine("s1.etcd"), ClientUrl = client, PeerUrl = $"http://127.0.0.1:{FreePorts.Next()}" });
        await etcd.StartAsync();
        await etcd.WaitHealthyAsync(TimeSpan.FromSeconds(30));
        var env = new Dictionary<string, string> { ["ETCDCTL_API"] = "3" };
        foreach (var key in new[] { "a", "b", "c" })
        {
            Assert.Equal(0, (await ToolProcess.RunAsync(etcdctl, ["--endpoints", client, "put", key, "v"], env)).ExitCode);
        }

        var path = temp.Combine("snap.db");
        var saved = await ToolProcess.RunAsync(etcdctl, ["--endpoints", client, "snapshot", "save", path], env);
        Assert.True(saved.ExitCode == 0, saved.StandardError);
        return path;
    }
}
