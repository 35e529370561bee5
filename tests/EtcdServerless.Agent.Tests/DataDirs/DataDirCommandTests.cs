using System.Text.Json;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Agent.Tests.DataDirs;

/// <summary>The real <c>etcd-backup-agent data-dirs</c> process on a member's disk (no agent running).</summary>
public sealed class DataDirCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new("etcdsl-agent-dirs");

    [Fact]
    public async Task DataDirs_ListAndRemove_WorkByNameAndRefuseTheLiveDataDir()
    {
        var dataDir = _temp.Combine("m1.etcd");
        Directory.CreateDirectory(Path.Combine(dataDir, "member"));
        Directory.CreateDirectory(dataDir + ".before-r1");
        await File.WriteAllTextAsync(Path.Combine(dataDir + ".before-r1", "db"), "12345");
        Directory.CreateDirectory(dataDir + ".rolledback-r2");
        Directory.CreateDirectory(_temp.Combine("m1.etcd-unrelated"));
        var config = _temp.Combine("agent.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Agent = new { MemberName = "m1", DataDir = dataDir, ControlMode = "Systemd", Tls = new { CertFile = "c.pem", KeyFile = "k.pem" } },
        }));

        var (exit, stdout, stderr) = await AgentCommandLineTests.RunAsync("data-dirs", "list", "--config", config, "-o", "json");
        Assert.True(exit == 0, stderr);
        var dirs = JsonSerializer.Deserialize<List<AgentDataDir>>(stdout, AgentProtocol.Json)!;
        Assert.Equal(["m1.etcd", "m1.etcd.before-r1", "m1.etcd.rolledback-r2"], dirs.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.Equal(5, dirs.Single(d => d.Kind == "before").SizeBytes);

        (exit, stdout, _) = await AgentCommandLineTests.RunAsync("data-dirs", "list", "--config", config);
        Assert.Equal(0, exit);
        Assert.Contains("rolledback", stdout, StringComparison.Ordinal);

        (exit, _, stderr) = await AgentCommandLineTests.RunAsync("data-dirs", "remove", "m1.etcd", "--config", config);
        Assert.Equal(1, exit);
        Assert.Contains("the live data dir", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.True(Directory.Exists(dataDir));

        (exit, _, stderr) = await AgentCommandLineTests.RunAsync("data-dirs", "remove", "../m1.etcd-unrelated", "--config", config);
        Assert.Equal(1, exit);
        Assert.Contains("not a path", stderr, StringComparison.Ordinal);
        (exit, _, _) = await AgentCommandLineTests.RunAsync("data-dirs", "remove", "m1.etcd-unrelated", "--config", config);
        Assert.Equal(1, exit);
        Assert.True(Directory.Exists(_temp.Combine("m1.etcd-unrelated")));

        (exit, stdout, stderr) = await AgentCommandLineTests.RunAsync("data-dirs", "remove", "m1.etcd.before-r1", "--config", config);
        Assert.True(exit == 0, stderr);
        Assert.Contains("removed", stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dataDir + ".before-r1"));
        Assert.True(Directory.Exists(dataDir + ".rolledback-r2"));
    }

    public void Dispose() => _temp.Dispose();
}
