using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Agent.Tests.Restore;

/// <summary>End to end: real etcd cluster, real agents (mTLS), real backup, real restore orchestration.</summary>
public sealed class RestoreOrchestrationTests
{
    [Fact]
    public async Task Restore_AfterEveryDataDirWasWiped_BringsBackTheBackupExactly()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "before/", 20);
        var manifest = await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[1], "after/", 5);
        foreach (var o in h.Agents.Options)
        {
            Directory.Delete(o.DataDir, recursive: true);
        }

        var (result, _) = await h.RestoreAsync(h.Request());

        Assert.True(result.Outcome == RestoreOutcome.Succeeded, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.All(result.Members, m => Assert.Equal("started", m.State));
        Assert.All(result.Members, m => Assert.Equal(["stop", "upload", "restore", "start"], m.Steps.Select(s => s.Name)));

        // The three agents run on this one host (one boot id): the snapshot reached them in turn.
        Assert.Equal(["m1", "m2", "m3"], result.Plan!.Waves.Select(w => Assert.Single(w)));
        var verification = result.Verification!;
        Assert.Equal(manifest.Snapshot.Revision, verification.Revision);
        Assert.Equal(3, verification.MembersUp);
        Assert.Equal(1, verification.Leaders);
        Assert.Single(verification.HashKv.Values.Distinct());
        foreach (var url in h.Agents.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(20, await client.CountAsync("before/"));
            Assert.Equal(0, await client.CountAsync("after/"));
            Assert.Equal("value-before/-7", (await client.GetAsync("before/007"))!.ValueString);
            var status = await client.StatusAsync();
            Assert.Equal(manifest.Snapshot.Revision, status.Header.Revision);
        }

        Assert.Equal(20, verification.KeyCount);

        // One agent read the snapshot for the live keys the cluster was checked against; the other two skipped that read.
        Assert.Equal(20, verification.ExpectedKeyCount);
    }

    [Fact]
    public async Task Restore_AgentsReportingSeparateHosts_OneWaveToAllAndTheBackupBack()
    {
        await using var h = await RestoreHarness.StartAsync(configure: (i, o) => o.HostId = $"host-{i}");
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 12);
        await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "late/", 3);

        var (result, _) = await h.RestoreAsync(h.Request());

        Assert.True(result.Outcome == RestoreOutcome.Succeeded, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.Equal(["m1", "m2", "m3"], Assert.Single(result.Plan!.Waves));

        // One decrypted stream reached the three agents at once: one upload step, the same for all.
        Assert.Single(result.Members.Select(m => m.Steps.Single(s => s.Name == "upload").Started).Distinct());
        foreach (var url in h.Agents.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(12, await client.CountAsync("k/"));
            Assert.Equal(0, await client.CountAsync("late/"));
        }
    }

    [Fact]
    public async Task Restore_WhenALaterWaveCannotStage_RollsBackTheMemberThatAlreadyRestored()
    {
        // m2 stages on disk, where a directory sits at its staging file's path: its upload fails after m1 (the first
        // wave, same host) received the snapshot and started restoring.
        await using var h = await RestoreHarness.StartAsync(configure: (i, o) => o.StageUploadsInMemory = i != 1);
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 5);
        await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "late/", 4);
        Directory.CreateDirectory(h.Agents.Options[1].DataDir + ".restore-wavefault.snap");

        var (result, _) = await h.RestoreAsync(h.Request() with { RestoreId = "wavefault" });

        Assert.True(result.Outcome == RestoreOutcome.RolledBack, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.Equal("upload", result.Phase);
        Assert.StartsWith("upload failed (m2: ", result.Error, StringComparison.Ordinal);
        Assert.Equal(["stop", "upload", "restore", "rollback"], result.Members.Single(m => m.Name == "m1").Steps.Select(s => s.Name));
        Assert.Equal(["stop", "rollback"], result.Members.Single(m => m.Name == "m3").Steps.Select(s => s.Name));
        Assert.All(result.Members, m => Assert.Equal("rolledBack", m.State));

        // The leftover m2 could not delete is named, and did not keep m2 down.
        Assert.Contains("staging leftover", result.Members.Single(m => m.Name == "m2").Steps[^1].Detail, StringComparison.Ordinal);
        await h.Agents.WaitHealthyAsync();
        foreach (var url in h.Agents.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(4, await client.CountAsync("late/"));
            Assert.Equal(5, await client.CountAsync("k/"));
        }
    }

    [Fact]
    public async Task Restore_IntoANewSetOfMembers_MigratesAndLeavesTheOldClusterAlone()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 10);
        var manifest = await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "late/", 3);
        await using var target = await AgentSet.StartAsync(h.Temp.Combine("new"), h.Certs, "n", startEtcd: false);

        var (result, _) = await h.RestoreAsync(h.Request(members: target.Members));

        Assert.True(result.Outcome == RestoreOutcome.Succeeded, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.Equal(manifest.Snapshot.Revision, result.Verification!.Revision);
        foreach (var url in target.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(10, await client.CountAsync("k/"));
            Assert.Equal(0, await client.CountAsync("late/"));
            var members = await client.MemberListAsync();
            Assert.Equal(["n1", "n2", "n3"], members.Members.Select(m => m.Name).Order());
        }

        using var old = RestoreHarness.Client(h.Agents.ClientUrls[0]);
        Assert.Equal(3, await old.CountAsync("late/"));
    }

    [Fact]
    public async Task Restore_DryRun_ReturnsThePlanAndTouchesNothing()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 5);
        var manifest = await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "late/", 2);

        var (result, _) = await h.RestoreAsync(h.Request(dryRun: true, confirm: null));

        Assert.Equal(RestoreOutcome.Planned, result.Outcome);
        var plan = result.Plan!;
        Assert.Equal(manifest.BackupId, plan.Backup.BackupId);
        Assert.Equal(3, plan.Members.Count);
        Assert.All(plan.Members, m => Assert.Contains($"--name {m.Member.Name}", m.Command, StringComparison.Ordinal));
        Assert.All(plan.Members, m => Assert.Contains($"--initial-cluster-token {plan.Token}", m.Command, StringComparison.Ordinal));
        Assert.All(plan.Members, m => Assert.True(m.Preflight!.MemberRunning));
        Assert.Contains(plan.Checks, c => c.StartsWith("ok: key", StringComparison.Ordinal));
        AssertUntouched(h);
        using var client = RestoreHarness.Client(h.Agents.ClientUrls[2]);
        Assert.Equal(2, await client.CountAsync("late/"));
    }

    [Fact]
    public async Task Restore_WhenOneAgentFailsTheRestoreStep_RollsEveryMemberBack()
    {
        await using var h = await RestoreHarness.StartAsync(configure: (i, o) => o.Faults.FailRestoreAfterSwap = i == 1);
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 5);
        await h.BackupAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "late/", 4);

        var (result, _) = await h.RestoreAsync(h.Request());

        Assert.True(result.Outcome == RestoreOutcome.RolledBack, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.Equal("restore", result.Phase);
        Assert.Contains("injected fault", result.Error, StringComparison.Ordinal);
        Assert.All(result.Members, m => Assert.Equal("rolledBack", m.State));
        await h.Agents.WaitHealthyAsync();
        foreach (var url in h.Agents.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(4, await client.CountAsync("late/"));
            Assert.Equal(5, await client.CountAsync("k/"));
        }

        // The restored dirs are kept aside, never deleted; the originals are back in place.
        Assert.All(h.Agents.Options.Where((_, i) => i != 1), o => Assert.Single(Directory.GetDirectories(h.Temp.Path, Path.GetFileName(o.DataDir) + ".rolledback-*")));
    }

    [Fact]
    public async Task Restore_RefusedInputs_GiveClearErrorsAndTouchNothing()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 3);
        await h.BackupAsync();

        var (wrong, _) = await h.RestoreAsync(h.Request(confirm: "c2"));
        Assert.Equal(RestoreOutcome.Rejected, wrong.Outcome);
        Assert.Contains("does not match the cluster name", wrong.Error, StringComparison.Ordinal);

        var (missing, _) = await h.RestoreAsync(h.Request(confirm: null));
        Assert.Equal(RestoreOutcome.Rejected, missing.Outcome);
        Assert.Contains("confirm is required", missing.Error, StringComparison.Ordinal);

        var (unknown, _) = await h.RestoreAsync(h.Request(backup: "20200101T000000000Z-r000000000001"));
        Assert.Equal(RestoreOutcome.Rejected, unknown.Outcome);
        Assert.Contains("was not found", unknown.Error, StringComparison.Ordinal);

        var unreachable = h.Agents.Members.Select((m, i) => i == 2 ? m with { AgentUrl = $"https://127.0.0.1:{FreePorts.Next()}" } : m).ToList();
        var (down, _) = await h.RestoreAsync(h.Request(members: unreachable));
        Assert.Equal(RestoreOutcome.Rejected, down.Outcome);
        Assert.Contains("m3", down.Error, StringComparison.Ordinal);
        Assert.Contains("unreachable", down.Error, StringComparison.Ordinal);

        AssertUntouched(h);
    }

    [Fact]
    public async Task Restore_WithAClientCertificateTheAgentsDoNotTrust_IsRejectedAtPreflight()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 3);
        await h.BackupAsync();
        using var rogueCa = TestCertificates.Create();
        using var rogue = new AgentClient(new AgentClientOptions { CertFile = rogueCa.Client.CertPath, KeyFile = rogueCa.Client.KeyPath, CaFile = h.Certs.CaCertPath });

        var (result, _) = await h.RestoreAsync(h.Request(), rogue);

        Assert.Equal(RestoreOutcome.Rejected, result.Outcome);
        Assert.Contains("unreachable", result.Error, StringComparison.Ordinal);
        AssertUntouched(h);
    }

    [Fact]
    public async Task Restore_DryRunWithInMemoryCertificates_ReachesEveryAgent()
    {
        // Arrange: the orchestrator's certificate and the agents' CA as objects, the way the Key Vault TLS
        // resolver hands them over on Azure (no file paths at all).
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 3);
        await h.BackupAsync();
        using var certificate = X509Certificate2.CreateFromPemFile(h.OrchestratorCert.CertPath, h.OrchestratorCert.KeyPath);
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(h.Certs.CaCertPath);
        using var inMemory = new AgentClient(new AgentClientOptions { ClientCertificate = certificate, TrustedCa = trusted });

        // Act
        var (result, _) = await h.RestoreAsync(h.Request(dryRun: true, confirm: null), inMemory);

        // Assert
        Assert.Equal(RestoreOutcome.Planned, result.Outcome);
        Assert.All(result.Plan!.Members, m => Assert.True(m.Preflight!.MemberRunning));
        AssertUntouched(h);
    }

    private static void AssertUntouched(RestoreHarness h)
    {
        for (var i = 0; i < h.Agents.Options.Count; i++)
        {
            var o = h.Agents.Options[i];
            Assert.True(h.Agents.IsRunning(i), $"{o.MemberName} should still run");
            Assert.True(Directory.Exists(o.DataDir));
            Assert.Empty(Directory.GetFileSystemEntries(h.Temp.Path, Path.GetFileName(o.DataDir) + ".*-*"));
        }
    }
}
