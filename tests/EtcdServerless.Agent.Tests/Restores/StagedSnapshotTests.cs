using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace EtcdServerless.Agent.Tests.Restores;

/// <summary>
/// The staged upload is hashed once and not fsynced, so etcd's restore tool may skip its own hash pass only over a
/// file this agent process verified itself: after an agent restart the tool checks again and refuses a torn file.
/// A real agent over mutual TLS, the real etcdctl, a real snapshot.
/// </summary>
public sealed class StagedSnapshotTests : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("etcdsl-agent-staged");
    private TestCertificates _certs = null!;
    private HttpClient _http = null!;
    private string _snapshot = null!;
    private string _sha = null!;
    private string _dataDir = null!;

    private string Marker => _temp.Combine("running");

    public async Task InitializeAsync()
    {
        _certs = TestCertificates.CreateIn(_temp.Combine("certs"));
        _snapshot = await AgentApiTests.MakeSnapshotAsync(_temp);
        _sha = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(_snapshot)));
        _dataDir = _temp.Combine("member.etcd");
        Directory.CreateDirectory(_dataDir);
        await File.WriteAllTextAsync(Marker, "");
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(_certs.CaCertificate);
        _http = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { ClientCertificates = [_certs.Client.Certificate], CertificateChainPolicy = policy },
        });
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        _certs.Dispose();
        _temp.Dispose();
        return Task.CompletedTask;
    }

    private string MemoryFolder => _temp.Combine("shm");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Restore_OfAnUploadThisProcessVerified_SkipsTheToolsSecondHashPass(bool inMemory)
    {
        var (app, url) = await StartAgentAsync(inMemory);
        await using (app)
        {
            var uploaded = await StopAndUploadAsync(url, "s1");

            Assert.Contains(inMemory ? "staged in memory" : "staged on disk", uploaded.Steps[^1].Detail, StringComparison.Ordinal);
            Assert.Equal(inMemory, File.Exists(MemoryStaging("s1")));
            Assert.NotEqual(inMemory, File.Exists(_dataDir + ".restore-s1.snap"));
            var restored = await _http.PostAsJsonAsync(new Uri(url, "v1/restores/s1/restore"), Request(), AgentProtocol.Json);

            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
            var status = JsonSerializer.Deserialize<AgentRestoreStatus>(await restored.Content.ReadAsStringAsync(), AgentProtocol.Json)!;
            Assert.Contains("--skip-hash-check", status.Command, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(_dataDir, "member", "snap", "db")));
            Assert.False(File.Exists(_dataDir + ".restore-s1.snap"));
            Assert.False(File.Exists(MemoryStaging("s1")));
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Restore_AfterTheAgentRestarted_LetsTheToolCheckTheHashAndRefuseATornFile()
    {
        var (first, firstUrl) = await StartAgentAsync(inMemory: true);
        await using (first)
        {
            await StopAndUploadAsync(firstUrl, "s2");
            await first.StopAsync();
        }

        // What a crash before writeback can leave: the staged file's size is right, its content is not. A staging file
        // in memory outlives an agent restart (not a reboot), so the same rule holds for it.
        var staged = MemoryStaging("s2");
        await using (var file = new FileStream(staged, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position = file.Length / 2;
            file.WriteByte((byte)(b ^ 0xFF));
        }

        var (second, secondUrl) = await StartAgentAsync(inMemory: true);
        await using (second)
        {
            var restored = await _http.PostAsJsonAsync(new Uri(secondUrl, "v1/restores/s2/restore"), Request(), AgentProtocol.Json);

            var body = await restored.Content.ReadAsStringAsync();
            Assert.False(restored.IsSuccessStatusCode, body);
            Assert.Contains("expected sha256", body, StringComparison.Ordinal);
            Assert.DoesNotContain("--skip-hash-check", body, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(_dataDir, "member", "snap", "db")));
            await second.StopAsync();
        }
    }

    [Fact]
    public async Task Restore_OfAnIntactUploadThatIsNoDatabase_IsRefusedBeforeTheSwap()
    {
        var (app, url) = await StartAgentAsync();
        await using (app)
        {
            // Its trailer is right, so the upload is accepted; the inspection that runs beside the tool finds no bbolt file.
            await StopAndUploadNoDatabaseAsync(url, "s3");

            var restored = await _http.PostAsJsonAsync(new Uri(url, "v1/restores/s3/restore"), Request(), AgentProtocol.Json);

            Assert.Equal(HttpStatusCode.BadRequest, restored.StatusCode);
            Assert.Contains("not a readable etcd snapshot", await restored.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(_dataDir, "original.txt")));
            Assert.False(File.Exists(_dataDir + ".restore-s3.snap"));
            Assert.False(Directory.Exists(_dataDir + ".restore-s3"));
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Restore_NotAskedToInspect_SkipsTheReadAndReportsNoKeys()
    {
        var (app, url) = await StartAgentAsync();
        await using (app)
        {
            await StopAndUploadAsync(url, "s6");

            var restored = await _http.PostAsJsonAsync(new Uri(url, "v1/restores/s6/restore"), Request() with { Inspect = false }, AgentProtocol.Json);

            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
            var status = JsonSerializer.Deserialize<AgentRestoreStatus>(await restored.Content.ReadAsStringAsync(), AgentProtocol.Json)!;
            Assert.Null(status.SnapshotLiveKeys);
            Assert.Contains("not inspected here", status.Steps[^1].Detail, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(_dataDir, "member", "snap", "db")));
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Restore_NotAskedToInspectAnIntactUploadThatIsNoDatabase_TheToolRefusesItBeforeTheSwap()
    {
        var (app, url) = await StartAgentAsync();
        await using (app)
        {
            await StopAndUploadNoDatabaseAsync(url, "s7");

            var restored = await _http.PostAsJsonAsync(new Uri(url, "v1/restores/s7/restore"), Request() with { Inspect = false }, AgentProtocol.Json);

            Assert.False(restored.IsSuccessStatusCode);
            Assert.Contains("snapshot restore", await restored.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(_dataDir, "original.txt")));
            Assert.False(File.Exists(Path.Combine(_dataDir, "member", "snap", "db")));
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Upload_MemoryStagingPathTaken_StagesOnDiskAndRestores()
    {
        // Something that is not our file sits where the staging file would go: the upload falls back to the disk.
        Directory.CreateDirectory(MemoryStaging("s4"));
        var (app, url) = await StartAgentAsync(inMemory: true);
        await using (app)
        {
            var uploaded = await StopAndUploadAsync(url, "s4");

            Assert.Contains("staged on disk", uploaded.Steps[^1].Detail, StringComparison.Ordinal);
            Assert.True(File.Exists(_dataDir + ".restore-s4.snap"));
            var restored = await _http.PostAsJsonAsync(new Uri(url, "v1/restores/s4/restore"), Request(), AgentProtocol.Json);
            Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
            Assert.True(Directory.Exists(MemoryStaging("s4")));
            await app.StopAsync();
        }
    }

    [Fact]
    public async Task Upload_WithoutContentLength_StagesOnDisk()
    {
        // The size decides whether memory has room: a body of unknown length goes to the disk.
        var (app, url) = await StartAgentAsync(inMemory: true);
        await using (app)
        {
            var uploaded = await StopAndUploadAsync(url, "s5", announceLength: false);

            Assert.Contains("staged on disk", uploaded.Steps[^1].Detail, StringComparison.Ordinal);
            Assert.False(File.Exists(MemoryStaging("s5")));
            await app.StopAsync();
        }
    }

    // Marks the data dir, stops the member and uploads random bytes with a valid etcd trailer: accepted, but no database.
    private async Task StopAndUploadNoDatabaseAsync(Uri agent, string id)
    {
        await File.WriteAllTextAsync(Path.Combine(_dataDir, "original.txt"), "original");
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(new Uri(agent, $"v1/restores/{id}/stop"), null)).StatusCode);
        var garbage = RandomNumberGenerator.GetBytes(8192);
        var body = garbage.Concat(SHA256.HashData(garbage)).ToArray();
        using var content = new ByteArrayContent(body);
        content.Headers.Add(AgentProtocol.SnapshotSha256Header, Convert.ToHexStringLower(SHA256.HashData(body)));
        Assert.Equal(HttpStatusCode.OK, (await _http.PutAsync(new Uri(agent, $"v1/restores/{id}/snapshot"), content)).StatusCode);
    }

    private string MemoryStaging(string id)
    {
        Directory.CreateDirectory(MemoryFolder);
        return new Agent.Restores.RestoreStateStore(_dataDir, MemoryFolder).MemoryStagingPath(id)!;
    }

    private async Task<(WebApplication App, Uri Url)> StartAgentAsync(bool inMemory = false)
    {
        Directory.CreateDirectory(MemoryFolder);
        var options = new AgentOptions
        {
            StageUploadsInMemory = inMemory,
            MemoryDirectory = MemoryFolder,
            MemberName = "m1",
            DataDir = _dataDir,
            ListenUrl = $"https://127.0.0.1:{FreePorts.Next()}",
            ControlMode = MemberControlMode.Custom,
            Custom = new CustomControlOptions { StopCommand = $"rm -f {Marker}", StartCommand = $"touch {Marker}", StatusCommand = $"test -f {Marker}" },
            Tls = new AgentTlsOptions { CertFile = _certs.Server.CertPath, KeyFile = _certs.Server.KeyPath, ClientCaFile = _certs.CaCertPath },
        };
        var app = AgentHost.Build(options, logging: _ => { });
        await AgentHost.StartAsync(app);
        return (app, new Uri(options.ListenUrl + "/"));
    }

    private async Task<AgentRestoreStatus> StopAndUploadAsync(Uri agent, string id, bool announceLength = true)
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.PostAsync(new Uri(agent, $"v1/restores/{id}/stop"), null)).StatusCode);
        HttpContent content = announceLength ? new StreamContent(File.OpenRead(_snapshot)) : new UnknownLengthContent(_snapshot);
        content.Headers.Add(AgentProtocol.SnapshotSha256Header, _sha);
        var uploaded = await _http.PutAsync(new Uri(agent, $"v1/restores/{id}/snapshot"), content);
        var body = await uploaded.Content.ReadAsStringAsync();
        Assert.True(uploaded.IsSuccessStatusCode, body);
        return JsonSerializer.Deserialize<AgentRestoreStatus>(body, AgentProtocol.Json)!;
    }

    // A body sent with chunked transfer encoding: no Content-Length reaches the agent.
    private sealed class UnknownLengthContent(string path) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await using var file = File.OpenRead(path);
            await file.CopyToAsync(stream);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static MemberRestoreRequest Request() => new()
    {
        Name = "m1",
        InitialCluster = "m1=http://127.0.0.1:23801",
        InitialAdvertisePeerUrls = "http://127.0.0.1:23801",
        Token = "tok",
    };
}
