using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Agent.Tests.Drills;

/// <summary>
/// The agent's drill endpoint end to end: a real backup of a real member, decrypted here and streamed over mutual
/// TLS to the member's real agent, which restores it with etcdctl into its own scratch folder and serves it from a
/// throwaway real etcd. The member's data dir is hashed before and after, and the member must keep serving.
/// </summary>
public sealed class AgentDrillTests(AgentDrillFixture f) : IClassFixture<AgentDrillFixture>
{
    private static readonly string[] s_allChecks = ["decrypt", "receive", "snapshot", "restore", "start", "revision", "keys", "hashkv", "sample", "stop"];

    [Fact]
    public async Task Drill_GoodBackup_EveryCheckPassesOnTheAgentAndTheMembersDataDirIsUntouched()
    {
        var before = await f.HashDataDirAsync();
        using var agents = f.CreateAgentClient();

        var report = await new AgentBackupDrill(f.Store, f.Keys, agents, f.AgentUrl).RunAndRecordAsync(f.Manifest);

        var drill = report.Drill;
        Assert.True(drill.Passed, string.Join("; ", drill.Checks.Select(c => $"{c.Name}={c.Passed}: {c.Detail}")));
        Assert.Equal(s_allChecks, drill.Checks.Select(c => c.Name));
        Assert.Equal($"agent {f.AgentUrl}", drill.RanOn);
        Assert.StartsWith("3.", drill.EtcdVersion, StringComparison.Ordinal);
        Assert.Equal(f.Manifest.Snapshot.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), drill.Checks.Single(c => c.Name == "revision").Actual);
        Assert.NotNull(report.Record);
        Assert.Equal("passed", (await DrillRecords.GetLatestAsync(f.Store, f.Manifest.Cluster, f.Manifest.BackupId))!.Outcome);

        Assert.Equal(before, await f.HashDataDirAsync());
        Assert.True(f.Agents.IsRunning(0));
        using var client = RestoreHarness.Client(f.Agents.ClientUrls[0]);
        await client.PutAsync("/after-drill", "still serving");
        Assert.Equal("still serving", (await client.GetAsync("/after-drill"))!.ValueString);

        // The hash sees the member's own writes (its WAL grew), so the equality above is no accident.
        Assert.NotEqual(before, await f.HashDataDirAsync());
        await client.DeleteAsync("/after-drill");
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task Drill_DamagedArtifact_FailsAtDecryptAndTheAgentKeepsNothing()
    {
        // A copy of the store whose artifact has one flipped byte in the middle (the WORM original stays intact).
        var copy = f.Temp.Combine($"store-damaged-{Guid.NewGuid():N}");
        CopyDirectory(f.Temp.Combine("store"), copy);
        var artifact = Directory.GetFiles(copy, "*.snap.enc", SearchOption.AllDirectories).Single(p => p.Contains(f.Manifest.BackupId, StringComparison.Ordinal));
        File.SetAttributes(artifact, FileAttributes.Normal);
        var bytes = await File.ReadAllBytesAsync(artifact);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(artifact, bytes);
        var before = await f.HashDataDirAsync();
        using var agents = f.CreateAgentClient();

        var drill = await new AgentBackupDrill(new LocalDirectoryBackupStore(copy), f.Keys, agents, f.AgentUrl).RunAsync(f.Manifest);

        Assert.False(drill.Passed);
        Assert.Equal("decrypt", Assert.Single(drill.Checks).Name);
        Assert.Equal(before, await f.HashDataDirAsync());
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task Drill_WrongKey_FailsAtDecryptBeforeAnythingIsSent()
    {
        using var otherKeys = new EtcdServerless.Testing.Infrastructure.TempDirectory("etcdsl-drill-keys");
        var keys = new LocalKeyStore(otherKeys.Combine("keys"));
        (await keys.InitializeAsync()).Dispose();
        using var agents = f.CreateAgentClient();

        var drill = await new AgentBackupDrill(f.Store, keys, agents, f.AgentUrl).RunAsync(f.Manifest);

        var check = Assert.Single(drill.Checks);
        Assert.Equal("decrypt", check.Name);
        Assert.False(check.Passed);
        Assert.Contains("key", check.Detail, StringComparison.OrdinalIgnoreCase);
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task Drill_PlaintextThatIsNotTheManifestsSnapshot_FailsAtReceiveOnTheAgent()
    {
        // Right size, wrong bytes: what a corrupted transfer or a lying caller would send.
        var expected = DrillExpectation.From(f.Manifest);
        var garbage = new byte[expected.Size];
        RandomNumberGenerator.Fill(garbage);
        using var agents = f.CreateAgentClient();

        var answer = await agents.DrillAsync(f.AgentUrl, expected, new MemoryStream(garbage));

        var check = Assert.Single(answer.Checks);
        Assert.Equal("receive", check.Name);
        Assert.False(check.Passed);
        Assert.Contains("sha256", check.Detail, StringComparison.Ordinal);
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task Drill_CallerWithoutTheClientCertificate_IsRefusedAndNothingRuns()
    {
        var expected = DrillExpectation.From(f.Manifest);
        var url = new Uri(new Uri(f.AgentUrl + "/"), $"{AgentDrillProtocol.Path}?{expected.ToQuery()}");

        // No certificate, and a certificate of another CA: the handshake fails before any endpoint runs.
        using var none = RawClient(null);
        await Assert.ThrowsAsync<HttpRequestException>(() => none.PostAsync(url, Body(expected)));
        using var foreignCa = TestCertificates.Create();
        using var foreign = RawClient(foreignCa.Client.Certificate);
        await Assert.ThrowsAsync<HttpRequestException>(() => foreign.PostAsync(url, Body(expected)));

        // Through the product's client with a foreign certificate: a failed drill naming the agent, not a crash.
        var stranger = foreignCa.Issue("stranger", "stranger", server: false, client: true);
        using var strangerClient = new AgentClient(new AgentClientOptions { CertFile = stranger.CertPath, KeyFile = stranger.KeyPath, CaFile = f.Certs.CaCertPath });
        var drill = await new AgentBackupDrill(f.Store, f.Keys, strangerClient, f.AgentUrl).RunAsync(f.Manifest);
        Assert.False(drill.Passed);
        Assert.Equal("agent", drill.FirstFailure!.Name);
        Assert.Contains(f.AgentUrl, drill.FirstFailure.Detail, StringComparison.Ordinal);
        AssertNoScratchLeft();
    }

    [Fact]
    public async Task Drill_MalformedRequests_AreBadRequestsAndNothingRuns()
    {
        var expected = DrillExpectation.From(f.Manifest);
        using var client = RawClient(f.OrchestratorCert.Certificate);
        Uri Url(DrillExpectation e) => new(new Uri(f.AgentUrl + "/"), $"{AgentDrillProtocol.Path}?{e.ToQuery()}");

        // A body shorter than the size announced in the query, a digest that is not hex, no cluster at all.
        var shortBody = await client.PostAsync(Url(expected), Body(expected with { Size = 4096 }));
        var badDigest = await client.PostAsync(Url(expected with { Sha256 = "zz" }), Body(expected));
        var noCluster = await client.PostAsync(Url(expected with { Cluster = "" }), Body(expected));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, shortBody.StatusCode);
        Assert.Contains("Content-Length", await shortBody.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badDigest.StatusCode);
        Assert.Contains("sha256", await badDigest.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, noCluster.StatusCode);
        AssertNoScratchLeft();
    }

    private void AssertNoScratchLeft()
    {
        var root = f.DataDir + ".drills";
        Assert.True(!Directory.Exists(root) || Directory.GetFileSystemEntries(root).Length == 0, "the agent left a drill scratch folder");
        if (Directory.Exists(root) && !OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root));
        }
    }

    private static ByteArrayContent Body(DrillExpectation expected)
    {
        var content = new ByteArrayContent(new byte[Math.Min(expected.Size, 1 << 20)]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private HttpClient RawClient(X509Certificate2? clientCertificate)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(f.Certs.CaCertificate);
        return new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { ClientCertificates = clientCertificate is null ? null : [clientCertificate], CertificateChainPolicy = policy },
        });
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
        }
    }
}
