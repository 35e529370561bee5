using System.Diagnostics;
using System.Globalization;
using EtcdServerless.Azure.Blob;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Instances;
using Microsoft.Extensions.DependencyInjection;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Azurite;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Bench.Backup;

/// <summary>
/// Scenario "backup": fills a real etcd to at least --size-mb (1 MB values, half random so compression does real
/// work), then, one run each, side by side: <c>etcdctl snapshot save</c> alone, and our whole backup (snapshot
/// stream teed to temp file + SHA-256 + Brotli + AES-GCM + store, trailer check and bbolt inspection, manifest)
/// into the local store and into Azurite. Prints wall times, the ratio to etcdctl and our peak RSS during the
/// backup (VmHWM, reset before each run).
/// Usage: bench backup [--size-mb 256] [--no-azurite]
/// </summary>
internal static class BackupBench
{
    private const int ValueBytes = 1_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = args.SkipWhile(a => a != "--size-mb").Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(256);
        var azurite = !args.Contains("--no-azurite");
        using var work = new TempDirectory("etcdsl-bench-backup");
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions
        {
            ExtraArguments = ["--quota-backend-bytes=8589934592", "--snapshot-count=100000"],
        }).ConfigureAwait(false);
        var dbSize = await FillAsync(cluster.ClientUrls[0], sizeMb * 1_000_000L).ConfigureAwait(false);
        Console.Error.WriteLine($"etcd loaded: db size {dbSize:N0} bytes");

        // Baseline: etcdctl snapshot save (one run, the same member).
        var theirsFile = work.Combine("etcdctl.db");
        var clock = Stopwatch.StartNew();
        await cluster.EtcdCtlAsync("snapshot", "save", theirsFile).ConfigureAwait(false);
        var theirs = clock.Elapsed;

        var keys = new LocalKeyStore(work.Combine("keys"));
        await keys.InitializeAsync().ConfigureAwait(false);
        var rows = new List<string>();
        var local = await RunBackupAsync(cluster, new LocalDirectoryBackupStore(work.Combine("store"), TimeSpan.Zero), keys, work).ConfigureAwait(false);
        rows.Add(Row("backup -> local store (brotli)", theirs, local));
        var plain = await RunBackupAsync(cluster, new LocalDirectoryBackupStore(work.Combine("store-plain"), TimeSpan.Zero), keys, work, EnvelopeCompression.None)
            .ConfigureAwait(false);
        rows.Add(Row("backup -> local store (no compression)", theirs, plain));
        if (azurite)
        {
            await using var blob = await AzuriteProcess.StartAsync().ConfigureAwait(false);
            var store = BlobBackupStore.FromUri(new Uri(blob.BlobEndpoint + "/backups"), accountKey: AzuriteProcess.AccountKey);
            await store.InitializeAsync().ConfigureAwait(false);
            var remote = await RunBackupAsync(cluster, store, keys, work).ConfigureAwait(false);
            rows.Add(Row("backup -> Azurite", theirs, remote));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"snapshot {new FileInfo(theirsFile).Length:N0} bytes, one run each, {Environment.ProcessorCount} cores"));
        Console.WriteLine();
        Console.WriteLine("| operation | etcdctl snapshot save | ours | ratio | our peak RSS | artifact bytes | phases |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        rows.ForEach(Console.WriteLine);
        return 0;
    }

    private static string Row(string name, TimeSpan theirs, (TimeSpan Elapsed, long PeakKb, BackupResult Result) ours)
    {
        var d = ours.Result.Manifest!.Durations;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {theirs.TotalMilliseconds:F0} ms | {ours.Elapsed.TotalMilliseconds:F0} ms | {ours.Elapsed / theirs:F2}x | {ours.PeakKb / 1024.0:F0} MiB | {ours.Result.Manifest.Artifact.Size:N0} | stream+seal {d.Snapshot.TotalMilliseconds:F0} ms, inspect {d.Verify.TotalMilliseconds:F0} ms, commit {d.Upload.TotalMilliseconds:F0} ms |");
    }

    private static async Task<(TimeSpan, long, BackupResult)> RunBackupAsync(
        EtcdTestCluster cluster, IBackupStore store, IKeyStore keys, TempDirectory work, EnvelopeCompression compression = EnvelopeCompression.Brotli)
    {
        var options = new EtcdBackupOptions
        {
            Store = new StoreOptions { ImmutabilityDays = 0 },
            Clusters = { ["bench"] = new ClusterOptions { Endpoints = [.. cluster.ClientUrls] } },
        };
        await using var services = new ServiceCollection()
            .AddSingleton(store)
            .AddSingleton(keys)
            .AddEtcdBackup(options, new BackupPipelineOptions
            {
                TempDirectory = work.Path,
                Envelope = EnvelopeOptions.Default with { Compression = compression },
            })
            .AddInProcessWorkflows()
            .BuildServiceProvider();
        var gateway = services.GetRequiredService<WorkflowGateway>();
        GC.Collect();
        ResetPeakRss();
        var clock = Stopwatch.StartNew();
        var started = await gateway.StartBackupAsync("bench", BackupTrigger.OnDemand).ConfigureAwait(false);
        var state = await gateway.WaitForCompletionAsync(started.InstanceId).ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        var result = OrchestrationJson.Deserialize<BackupResult>(state.SerializedOutput) ?? throw new InvalidOperationException(state.FailureDetails?.ErrorMessage);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(result.Message);
        }

        return (elapsed, PeakRssKb(), result);
    }

    private static async Task<long> FillAsync(string endpoint, long targetBytes)
    {
        using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(endpoint), CallTimeout = TimeSpan.FromMinutes(1) });
        var next = 0;
        long dbSize = 0;
        while (dbSize < targetBytes)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 32), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, ct) =>
            {
                var value = new byte[ValueBytes];
                Random.Shared.NextBytes(value.AsSpan(0, ValueBytes / 2));
                var key = $"/registry/bench/{Interlocked.Increment(ref next):D8}";
                await client.PutAsync(System.Text.Encoding.UTF8.GetBytes(key), value, cancellationToken: ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            dbSize = (await client.StatusAsync().ConfigureAwait(false)).DbSize;
        }

        return dbSize;
    }

    // Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) of this process.
    private static void ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static long PeakRssKb()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? -1 : long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
