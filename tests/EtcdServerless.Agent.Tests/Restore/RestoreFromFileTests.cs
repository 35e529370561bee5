using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Agent.Tests.Restore;

/// <summary>
/// <c>restore run --from-file</c> on the orchestration: a real 3-member cluster under real agents restored from a file
/// <c>etcdctl snapshot save</c> wrote (no backup, no key involved); a corrupted or truncated file is refused in the
/// plan, before any member is stopped; a bare db (no trailer) needs the hash check skipped, as with etcdctl.
/// </summary>
public sealed class RestoreFromFileTests
{
    [Fact]
    public async Task Restore_FromAnEtcdctlSnapshotFile_RestoresThreeMembersWithItsKeys()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "saved/", 12);
        var file = await SnapshotSaveAsync(h);
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[1], "later/", 4);

        var (result, _) = await h.RestoreAsync(h.Request() with { FromFile = file });

        Assert.True(result.Outcome == RestoreOutcome.Succeeded, $"{result.Outcome} in {result.Phase}: {result.Error}");
        Assert.StartsWith("file:", result.Plan!.Backup.BackupId, StringComparison.Ordinal);
        Assert.Equal(3, result.Verification!.MembersUp);
        Assert.Single(result.Verification.HashKv.Values.Distinct());
        foreach (var url in h.Agents.ClientUrls)
        {
            using var client = RestoreHarness.Client(url);
            Assert.Equal(12, await client.CountAsync("saved/"));
            Assert.Equal(0, await client.CountAsync("later/"));
            Assert.Equal("value-saved/-7", (await client.GetAsync("saved/007"))!.ValueString);
        }
    }

    [Fact]
    public async Task Restore_FromACorruptedOrTruncatedFile_IsRefusedBeforeAnyMemberIsStopped()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "k/", 5);
        var file = await SnapshotSaveAsync(h);
        var bytes = await File.ReadAllBytesAsync(file);
        var corrupted = h.Temp.Combine("corrupted.db");
        var flipped = (byte[])bytes.Clone();
        flipped[flipped.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(corrupted, flipped);
        var truncated = h.Temp.Combine("truncated.db");
        await File.WriteAllBytesAsync(truncated, bytes.AsSpan(0, bytes.Length - 100).ToArray());

        var (bad, _) = await h.RestoreAsync(h.Request() with { FromFile = corrupted });
        var (cut, _) = await h.RestoreAsync(h.Request() with { FromFile = truncated });

        Assert.Equal(RestoreOutcome.Rejected, bad.Outcome);
        Assert.Equal("plan", bad.Phase);
        Assert.Contains("corrupted.db", bad.Error, StringComparison.Ordinal);
        Assert.Equal(RestoreOutcome.Rejected, cut.Outcome);
        Assert.Contains("--skip-hash-check", cut.Error, StringComparison.Ordinal);
        Assert.All(bad.Members.Concat(cut.Members), m => Assert.Empty(m.Steps));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(h.Agents.IsRunning(i), $"member {i} was stopped");
        }

        using var client = RestoreHarness.Client(h.Agents.ClientUrls[0]);
        Assert.Equal(5, await client.CountAsync("k/"));
    }

    [Fact]
    public async Task Restore_FromABareDbWithSkipHashCheck_Restores_AndWithoutItIsRefused()
    {
        await using var h = await RestoreHarness.StartAsync();
        await RestoreHarness.PutManyAsync(h.Agents.ClientUrls[0], "bare/", 6);
        var file = await SnapshotSaveAsync(h);

        // What a db copied out of a data dir looks like: the bbolt file without etcd's trailer.
        var bytes = await File.ReadAllBytesAsync(file);
        var bare = h.Temp.Combine("bare.db");
        await File.WriteAllBytesAsync(bare, bytes.AsSpan(0, bytes.Length - 32).ToArray());

        var (refused, _) = await h.RestoreAsync(h.Request(dryRun: true) with { FromFile = bare });
        var (restored, _) = await h.RestoreAsync(h.Request() with { FromFile = bare, SkipHashCheck = true });

        Assert.Equal(RestoreOutcome.Rejected, refused.Outcome);
        Assert.Contains("--skip-hash-check", refused.Error, StringComparison.Ordinal);
        Assert.True(restored.Outcome == RestoreOutcome.Succeeded, $"{restored.Outcome} in {restored.Phase}: {restored.Error}");
        using var client = RestoreHarness.Client(h.Agents.ClientUrls[2]);
        Assert.Equal(6, await client.CountAsync("bare/"));
    }

    private static async Task<string> SnapshotSaveAsync(RestoreHarness h)
    {
        var file = h.Temp.Combine($"etcdctl-{Guid.NewGuid():N}.db");
        var saved = await ToolProcess.RunAsync("etcdctl", ["--endpoints", h.Agents.ClientUrls[0], "snapshot", "save", file], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        Assert.True(saved.ExitCode == 0, saved.StandardError);
        return file;
    }
}
