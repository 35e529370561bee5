using System.Security.Cryptography;
using System.Text.Json;
using EtcdServerless.Etcd.Capture;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Endpoints;
using EtcdServerless.Etcd.Errors;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Etcd.Tests.Capture;

[Trait("Category", "Etcd")]
public sealed class SnapshotCaptureTests
{
    [Fact]
    public async Task CaptureAsync_SingleMember_FileEqualsEtcdctlSaveAndIsRestorable()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        var revision = await FillAsync(cluster, keys: 100);
        var file = Path.Combine(cluster.WorkDirectory, "ours.db");
        var theirs = Path.Combine(cluster.WorkDirectory, "etcdctl.db");
        var capture = new SnapshotCapture(cluster.ClientOptions());

        var result = await capture.CaptureAsync(SnapshotSourcePlan.FromEndpoints(cluster.ClientUris), file);
        await cluster.EtcdCtlOnMemberAsync(0, "snapshot", "save", theirs);

        var bytes = await File.ReadAllBytesAsync(file);
        Assert.Equal(await File.ReadAllBytesAsync(theirs), bytes);
        Assert.Equal(bytes.Length, result.FileSize);
        Assert.Equal(bytes.Length - 32, result.DbSize);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32))), result.Sha256Hex);
        Assert.Equal(Convert.ToHexStringLower(bytes.AsSpan(bytes.Length - 32)), result.Sha256Hex);
        Assert.Single(result.Attempts);
        Assert.False(File.Exists(file + ".part"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        using var status = JsonDocument.Parse(await cluster.EtcdCtlOfflineAsync("snapshot", "status", file, "-w", "json"));
        Assert.Equal(revision, status.RootElement.GetProperty("revision").GetInt64());
        Assert.Equal(result.DbSize, status.RootElement.GetProperty("totalSize").GetInt64());

        var restored = Path.Combine(cluster.WorkDirectory, "restored.etcd");
        await cluster.EtcdCtlOfflineAsync("snapshot", "restore", file, "--data-dir", restored, "--name", "r0",
            "--initial-cluster", "r0=http://127.0.0.1:1", "--initial-advertise-peer-urls", "http://127.0.0.1:1");
        Assert.True(File.Exists(Path.Combine(restored, "member", "snap", "db")));
    }

    [Fact]
    public async Task CaptureAsync_StreamCutMidway_RetriesNextMemberAndLeavesNoPartFile()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await FillAsync(cluster, keys: 200);
        await using var proxy = FaultyTcpProxy.CutAfter(cluster.ClientUrls[0], 300_000);
        var plan = SnapshotSourcePlan.FromEndpoints([proxy.UrlFor(cluster.ClientUrls[0]), cluster.ClientUris[0]]);
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");
        var starts = new List<int>();
        using var tee = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long teed = 0;
        var sawPart = false;
        var hooks = new SnapshotCaptureHooks
        {
            OnAttemptStart = (start, _) =>
            {
                starts.Add(start.Attempt);
                tee.GetHashAndReset();
                teed = 0;
                return ValueTask.CompletedTask;
            },
            OnChunk = (chunk, _) =>
            {
                tee.AppendData(chunk.Span);
                teed += chunk.Length;
                sawPart |= File.Exists(file + ".part");
                return ValueTask.CompletedTask;
            },
        };

        var result = await new SnapshotCapture(cluster.ClientOptions()).CaptureAsync(plan, file, hooks);

        Assert.Equal([1, 2], starts);
        Assert.True(sawPart);
        Assert.Equal(2, result.Attempts.Count);
        Assert.False(result.Attempts[0].Succeeded);
        // How many bytes the first attempt got before the cut is timing: Grpc.Net.Client may drop frames it had
        // buffered when the connection resets (seen under load). The cut itself is what matters: a failed attempt
        // with its error, then the next member.
        Assert.NotNull(result.Attempts[0].Error);
        Assert.True(result.Attempts[1].Succeeded);
        Assert.Equal(cluster.ClientUris[0], result.Source.Endpoint);
        Assert.False(File.Exists(file + ".part"));
        var bytes = await File.ReadAllBytesAsync(file);
        Assert.Equal(bytes.Length, teed);
        Assert.Equal(SHA256.HashData(bytes), tee.GetHashAndReset());
        await SnapshotTrailerVerifier.VerifyFileAsync(file);
    }

    [Fact]
    public async Task CaptureAsync_CorruptedStream_IsRejectedAndNextMemberUsed()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await FillAsync(cluster, keys: 100);
        await using var proxy = FaultyTcpProxy.Corrupt(cluster.ClientUrls[0], 200_000);
        var plan = SnapshotSourcePlan.FromEndpoints([proxy.UrlFor(cluster.ClientUrls[0]), cluster.ClientUris[0]]);
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");

        var result = await new SnapshotCapture(cluster.ClientOptions()).CaptureAsync(plan, file);

        Assert.Equal(2, result.Attempts.Count);
        Assert.False(result.Attempts[0].Succeeded);
        Assert.Equal(cluster.ClientUris[0], result.Source.Endpoint);
        await SnapshotTrailerVerifier.VerifyFileAsync(file);
    }

    [Fact]
    public async Task CaptureAsync_MemberStallsMidStream_IdleTimeoutMovesToNextMember()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await FillAsync(cluster, keys: 100);
        await using var proxy = FaultyTcpProxy.StallAfter(cluster.ClientUrls[0], 150_000);
        var plan = SnapshotSourcePlan.FromEndpoints([proxy.UrlFor(cluster.ClientUrls[0]), cluster.ClientUris[0]]);
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");
        var capture = new SnapshotCapture(cluster.ClientOptions(), new SnapshotCaptureOptions { IdleTimeout = TimeSpan.FromSeconds(1) });

        var result = await capture.CaptureAsync(plan, file);

        Assert.Equal(2, result.Attempts.Count);
        Assert.Contains("no snapshot data", result.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Equal(cluster.ClientUris[0], result.Source.Endpoint);
        await SnapshotTrailerVerifier.VerifyFileAsync(file);
    }

    [Fact]
    public async Task CaptureAsync_CallerCancels_ThrowsCanceledAndLeavesNoFile()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await FillAsync(cluster, keys: 100);
        await using var proxy = FaultyTcpProxy.StallAfter(cluster.ClientUrls[0], 150_000);
        var plan = SnapshotSourcePlan.FromEndpoints([proxy.UrlFor(cluster.ClientUrls[0]), cluster.ClientUris[0]]);
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");
        using var cts = new CancellationTokenSource();
        var hooks = new SnapshotCaptureHooks { Progress = (done, _) => { if (done > 100_000) { cts.Cancel(); } } };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new SnapshotCapture(cluster.ClientOptions()).CaptureAsync(plan, file, hooks, cts.Token));

        Assert.False(File.Exists(file));
        Assert.False(File.Exists(file + ".part"));
    }

    [Fact]
    public async Task CaptureAsync_EveryMemberBroken_ThrowsAndLeavesNoFile()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions());
        await FillAsync(cluster, keys: 50);
        await using var proxy = FaultyTcpProxy.CutAfter(cluster.ClientUrls[0], 100_000);
        var plan = SnapshotSourcePlan.FromEndpoints([proxy.UrlFor(cluster.ClientUrls[0]), proxy.UrlFor(cluster.ClientUrls[0])]);
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");

        var ex = await Assert.ThrowsAsync<SnapshotCaptureException>(() => new SnapshotCapture(cluster.ClientOptions()).CaptureAsync(plan, file));

        Assert.Equal(2, ex.Attempts.Count);
        Assert.All(ex.Attempts, a => Assert.False(a.Succeeded));
        Assert.False(File.Exists(file));
        Assert.False(File.Exists(file + ".part"));
    }

    [Fact]
    public async Task CaptureAsync_EmptyPlan_ThrowsWithRejections()
    {
        var plan = new SnapshotSourcePlan([], [new SnapshotSourceRejection(new Uri("http://127.0.0.1:1"), "m9", "unreachable: refused")]);
        var capture = new SnapshotCapture(new EtcdClientOptions { Endpoint = new Uri("http://127.0.0.1:1") });

        var ex = await Assert.ThrowsAsync<SnapshotCaptureException>(() => capture.CaptureAsync(plan, Path.Combine(Path.GetTempPath(), "never.db")));

        Assert.Contains("m9", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaptureAsync_PermissionDenied_IsNotRetriedAndLeavesNoFile()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { EnableAuth = true });
        await cluster.EtcdCtlAsync("user", "add", "reader", "--new-user-password=reader-pw");
        var starts = 0;
        var capture = new SnapshotCapture(cluster.ClientOptions() with { Username = "reader", Password = "reader-pw" });
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");
        var hooks = new SnapshotCaptureHooks { OnAttemptStart = (_, _) => { starts++; return ValueTask.CompletedTask; } };

        await Assert.ThrowsAsync<EtcdPermissionDeniedException>(() =>
            capture.CaptureAsync(SnapshotSourcePlan.FromEndpoints([cluster.ClientUris[0], cluster.ClientUris[0]]), file, hooks));

        Assert.Equal(1, starts);
        Assert.False(File.Exists(file));
        Assert.False(File.Exists(file + ".part"));
    }

    [Fact]
    public async Task CaptureAsync_ThreeMembersWithKilledFollower_CapturesFromAnotherFollowerOverMutualTls()
    {
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 3, Security = EtcdTestSecurity.MutualTls, EnableAuth = true });
        var revision = await FillAsync(cluster, keys: 30);
        var selector = new SnapshotSourceSelector(cluster.ClientOptions());
        var first = await selector.SelectAsync(cluster.ClientUris);
        await cluster.KillMemberAsync(cluster.Members.Single(m => m.Name == first.Ranked[0].Name).Index);

        var plan = await selector.SelectAsync(cluster.ClientUris);
        var file = Path.Combine(cluster.WorkDirectory, "snap.db");
        var progress = new List<(long, long?)>();
        var result = await new SnapshotCapture(cluster.ClientOptions()).CaptureAsync(plan, file, null, (done, total) => progress.Add((done, total)));

        Assert.NotEqual(first.Ranked[0].Name, result.Source.Name);
        Assert.False(result.Source.IsLeader);
        Assert.Equal(result.FileSize, progress[^1].Item1);
        Assert.Equal(result.FileSize, progress[^1].Item2);
        using var status = JsonDocument.Parse(await cluster.EtcdCtlOfflineAsync("snapshot", "status", file, "-w", "json"));
        Assert.Equal(revision, status.RootElement.GetProperty("revision").GetInt64());
    }

    private static async Task<long> FillAsync(EtcdTestCluster cluster, int keys)
    {
        await using var client = cluster.CreateClient();
        var value = new byte[10_000];
        new Random(keys).NextBytes(value);
        EtcdPutResult? last = null;
        for (var i = 0; i < keys; i++)
        {
            last = await client.PutAsync(System.Text.Encoding.UTF8.GetBytes($"/fill/{i:D5}"), value);
        }

        return last!.Header.Revision;
    }
}
