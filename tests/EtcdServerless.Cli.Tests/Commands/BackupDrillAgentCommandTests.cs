using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.Json;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>
/// <c>backup drill</c> with <c>Clusters:C:Drill:AgentUrl</c>: the real CLI decrypts and streams the plaintext over mutual
/// TLS to a real <c>etcd-backup-agent</c> process, which drills it with its own etcd tools; without the setting the same
/// verb drills on this machine. Either way the output says where it ran.
/// </summary>
[Trait("Category", "Cli")]
[UnsupportedOSPlatform("windows")]
public sealed class BackupDrillAgentCommandTests : IClassFixture<BackupDrillCommandTests.Fixture>, IAsyncLifetime
{
    private readonly BackupDrillCommandTests.Fixture _f;
    private readonly TempDirectory _temp = new("etcdsl-cli-agent");
    private TestCertificates _certs = null!;
    private Process _agent = null!;
    private string _agentUrl = "";
    private string _agentDataDir = "";

    public BackupDrillAgentCommandTests(BackupDrillCommandTests.Fixture fixture) => _f = fixture;

    public async Task InitializeAsync()
    {
        _certs = TestCertificates.CreateIn(_temp.Combine("certs"));
        var port = FreePorts.Next();
        _agentUrl = $"https://127.0.0.1:{port}";
        _agentDataDir = _temp.Combine("member.etcd");
        var config = _temp.Combine("agent.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Agent = new
            {
                MemberName = "m1",
                DataDir = _agentDataDir,
                ListenUrl = _agentUrl,
                ControlMode = "Supervised",
                // The drill never needs the member: the agent runs without one here.
                Supervised = new { ClientUrl = $"http://127.0.0.1:{FreePorts.Next()}", PeerUrl = $"http://127.0.0.1:{FreePorts.Next()}", StartOnLaunch = false },
                Tls = new { CertFile = _certs.Server.CertPath, KeyFile = _certs.Server.KeyPath, ClientCaFile = _certs.CaCertPath },
            },
        }));
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "etcd-backup-agent.dll"));
        psi.ArgumentList.Add("--config");
        psi.ArgumentList.Add(config);
        _agent = Process.Start(psi)!;
        _agent.OutputDataReceived += (_, _) => { };
        _agent.ErrorDataReceived += (_, _) => { };
        _agent.BeginOutputReadLine();
        _agent.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.False(_agent.HasExited, "the agent process exited at start");
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task Drill_WithDrillAgentUrl_RunsOnTheAgentAndSaysSo()
    {
        var config = WriteConfig(agentUrl: _agentUrl);

        var json = await Cli.RunAsync("backup", "drill", _f.BackupId, "--config", config, "-o", "json");
        var table = await Cli.RunAsync("backup", "drill", _f.BackupId, "--config", config);

        Assert.True(json.ExitCode == 0, json.Err + json.Out);
        using var doc = JsonDocument.Parse(json.Out);
        var drill = doc.RootElement.GetProperty("drill");
        Assert.Equal("passed", drill.GetProperty("outcome").GetString());
        Assert.Equal($"agent {_agentUrl}", drill.GetProperty("ranOn").GetString());
        Assert.Equal(["decrypt", "receive", "snapshot", "restore", "start", "revision", "keys", "hashkv", "sample", "stop"],
            drill.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains($"ran on: agent {_agentUrl}", table.Out, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_agentDataDir + ".drills"));
        Assert.False(Directory.Exists(_agentDataDir), "the drill created or touched the member's data dir");
    }

    [Fact]
    public async Task Drill_WithoutDrillAgentUrl_RunsOnThisMachineAndSaysSo()
    {
        var table = await Cli.RunAsync("backup", "drill", _f.BackupId, "--config", WriteConfig(agentUrl: null));

        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains("ran on: this machine (local etcd tools)", table.Out, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_agentDataDir + ".drills"));
    }

    [Fact]
    public async Task Drill_AgentUrlOverPlainHttp_IsAConfigurationErrorNamingTheKey()
    {
        var result = await Cli.RunAsync("backup", "drill", _f.BackupId, "--config", WriteConfig(agentUrl: _agentUrl.Replace("https", "http", StringComparison.Ordinal)));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Clusters:lab:Drill:AgentUrl", result.Err, StringComparison.Ordinal);
        Assert.Contains("https", result.Err, StringComparison.Ordinal);
    }

    private string WriteConfig(string? agentUrl)
    {
        var client = _certs.Issue($"orchestrator-{Guid.NewGuid():N}", "etcd-backup-orchestrator", server: false, client: true);
        var path = _temp.Combine($"cli-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(_f.Env.StoreDir).AbsoluteUri, ImmutabilityDays = 0 },
            Keys = new { Uri = new Uri(_f.Env.KeysDir).AbsoluteUri },
            Clusters = new { lab = new { Endpoints = _f.Etcd.ClientUrls, Drill = new { AgentUrl = agentUrl } } },
            Restore = new { AgentTls = new { client.CertPath, client.KeyPath, CaFile = _certs.CaCertPath } },
        }).Replace("\"CertPath\"", "\"CertFile\"", StringComparison.Ordinal).Replace("\"KeyPath\"", "\"KeyFile\"", StringComparison.Ordinal));
        return path;
    }

    public async Task DisposeAsync()
    {
        if (!_agent.HasExited)
        {
            _agent.Kill(entireProcessTree: true);
            await _agent.WaitForExitAsync();
        }

        _agent.Dispose();
        _certs.Dispose();
        _temp.Dispose();
    }
}
