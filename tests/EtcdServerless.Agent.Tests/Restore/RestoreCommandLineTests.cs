using System.Runtime.Versioning;
using System.Text.Json;
using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Cli;

namespace EtcdServerless.Agent.Tests.Restore;

/// <summary>
/// <c>etcd-backup restore run</c> in-process against real agents: <c>--members FILE.json</c> (migration to new names
/// and ports, validated like the HTTP body) and the etcd version check (<c>--force-version</c>).
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class RestoreCommandLineTests
{
    private static readonly JsonSerializerOptions s_web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task RestoreRun_WithAMembersFile_MovesAThreeMemberClusterToNewPorts()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 12);
        var manifest = await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "late/", 2);
        await using var target = await AgentSet.StartAsync(h.Temp.Combine("moved"), h.Certs, "n", startEtcd: false);
        var config = WriteConfig(h);
        var membersFile = h.Temp.Combine("members.json");
        await File.WriteAllTextAsync(membersFile, JsonSerializer.Serialize(target.Members.Select(m => new { name = m.Name, peerUrl = m.PeerUrl, clientUrl = m.ClientUrl, agentUrl = m.AgentUrl })));

        var (exit, stdout, stderr) = await RunCliAsync(
            "restore", "run", "--config", config, "--cluster", RestoreHarness.Cluster, "--backup", manifest.BackupId,
            "--members", membersFile, "--confirm", RestoreHarness.Cluster, "--reason", "move to new ports");

        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains("Result: Succeeded", stdout, StringComparison.Ordinal);
        foreach (var url in target.ClientUrls)
        {
            Assert.DoesNotContain(url, h.Agents.ClientUrls);
            using var client = RestoreHarness.Client(url);
            Assert.Equal(12, await client.CountAsync("k/"));
            Assert.Equal(0, await client.CountAsync("late/"));
            Assert.Equal(["n1", "n2", "n3"], (await client.MemberListAsync()).Members.Select(m => m.Name).Order());
        }

        using var old = RestoreHarness.Client(h.Agents.ClientUrls[0]);
        Assert.Equal(2, await old.CountAsync("late/"));
    }

    [Fact]
    public async Task RestoreRun_WithABadMembersFile_NamesEveryBadFieldAndTouchesNothing()
    {
        await using var h = await RestoreHarness.StartAsync();
        await h.BackupAsync();
        var config = WriteConfig(h);
        var bad = h.Temp.Combine("bad.json");
        await File.WriteAllTextAsync(bad, """{ "members": [ { "name": "n1", "peerUrl": "http://127.0.0.1:1", "clientUrl": "http://127.0.0.1:2", "agentUrl": "ftp://x" }, { "peerUrl": 5 } ] }""");
        var duplicate = h.Temp.Combine("dup.json");
        var m = h.Agents.Members[0];
        await File.WriteAllTextAsync(duplicate, JsonSerializer.Serialize(new[] { m, m }, s_web));

        var (exit, _, stderr) = await RunCliAsync("restore", "run", "--config", config, "--cluster", RestoreHarness.Cluster, "--backup", "latest", "--members", bad, "--dry-run");
        Assert.Equal(2, exit); // a usage error, like every bad argument
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("members[0].agentUrl must be an http(s) URL", stderr, StringComparison.Ordinal);
        Assert.Contains("members[1].name is required", stderr, StringComparison.Ordinal);
        Assert.Contains("members[1].peerUrl must be a string", stderr, StringComparison.Ordinal);

        (exit, _, stderr) = await RunCliAsync("restore", "run", "--config", config, "--cluster", RestoreHarness.Cluster, "--backup", "latest", "--members", duplicate, "--dry-run");
        Assert.Equal(2, exit);
        Assert.Contains("unique", stderr, StringComparison.Ordinal);

        (exit, _, stderr) = await RunCliAsync("restore", "run", "--config", config, "--cluster", RestoreHarness.Cluster, "--backup", "latest", "--members", h.Temp.Combine("none.json"), "--dry-run");
        Assert.Equal(1, exit);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
        Assert.All(Enumerable.Range(0, 3), i => Assert.True(h.Agents.IsRunning(i)));
    }

    [Fact]
    public async Task RestoreRun_IntoAnOlderEtcd_IsRefusedNamingBothVersionsUnlessForced()
    {
        // The agents' etcd reports 3.3 (a wrapper around the real binary); the backup is written by the real 3.4 member.
        var wrapper = Path.Combine(Path.GetTempPath(), $"etcd-3.3-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(wrapper, "#!/bin/sh\nif [ \"$1\" = \"--version\" ]; then echo 'etcd Version: 3.3.27'; exit 0; fi\nexec etcd \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await using var h = await RestoreHarness.StartAsync(configure: (_, o) => o.EtcdPath = wrapper);
            var manifest = await h.BackupAsync();
            Assert.StartsWith("3.4.", manifest.Source.EtcdVersion, StringComparison.Ordinal);
            var config = WriteConfig(h);

            var (exit, stdout, stderr) = await RunCliAsync("restore", "run", "--config", config, "--cluster", RestoreHarness.Cluster, "--backup", "latest", "--confirm", RestoreHarness.Cluster, "--reason", "x");
            Assert.Equal(1, exit);
            Assert.Contains("rejected", stderr, StringComparison.Ordinal);
            Assert.Contains($"etcd 3.3.27 there is older than etcd {manifest.Source.EtcdVersion}", stderr, StringComparison.Ordinal);
            Assert.Contains("--force-version", stderr, StringComparison.Ordinal);
            Assert.All(Enumerable.Range(0, 3), i => Assert.True(h.Agents.IsRunning(i)));

            (exit, stdout, stderr) = await RunCliAsync("restore", "run", "--config", config, "--cluster", RestoreHarness.Cluster, "--backup", "latest", "--dry-run", "--force-version");
            Assert.True(exit == 0, stderr);
            Assert.Contains("check ok: forced", stdout, StringComparison.Ordinal);
            Assert.Contains("Result: Planned", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(wrapper);
        }
    }

    private static string WriteConfig(RestoreHarness h)
    {
        var path = h.Temp.Combine("cli.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            Store = new { Uri = new Uri(h.Temp.Combine("store")).AbsoluteUri },
            Keys = new { Uri = new Uri(h.Temp.Combine("keys")).AbsoluteUri },
            Clusters = new Dictionary<string, object>
            {
                [RestoreHarness.Cluster] = new
                {
                    Endpoints = h.Agents.ClientUrls,
                    Members = h.Agents.Members.Select(m => new { m.Name, m.PeerUrl, m.ClientUrl, m.AgentUrl }),
                },
            },
            Restore = new { AgentTls = new { CertFile = h.OrchestratorCert.CertPath, KeyFile = h.OrchestratorCert.KeyPath, CaFile = h.Certs.CaCertPath } },
        }));
        return path;
    }

    private static async Task<(int Exit, string Out, string Err)> RunCliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
