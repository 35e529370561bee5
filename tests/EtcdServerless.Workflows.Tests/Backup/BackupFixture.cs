using System.Text.Json;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Instances;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Workflows.Tests.Backup;

/// <summary>A real 3-member etcd cluster, a local WORM store, a local key store and the real Durable Task engine.</summary>
internal sealed class BackupFixture : IAsyncDisposable
{
    public const string ClusterName = "c1";

    private BackupFixture(EtcdTestCluster cluster, TempDirectory temp, InterceptingBackupStore store, LocalKeyStore keys, EtcdBackupOptions options, BackupPipelineOptions pipeline)
    {
        Cluster = cluster;
        Temp = temp;
        Store = store;
        Keys = keys;
        Options = options;
        Pipeline = pipeline;
        Environment = new BackupEnvironment(options, store, keys, pipeline: pipeline);
    }

    public EtcdTestCluster Cluster { get; }

    public TempDirectory Temp { get; }

    public InterceptingBackupStore Store { get; }

    public LocalKeyStore Keys { get; }

    public EtcdBackupOptions Options { get; }

    public BackupEnvironment Environment { get; }

    public BackupPipelineOptions Pipeline { get; }

    /// <summary>The real Durable Task engine running the product's orchestrations over this fixture's store and keys.</summary>
    public WorkflowTestHost Engine { get; private set; } = null!;

    public WorkflowGateway Gateway => Engine.Gateway;

    public string StoreRoot => Temp.Combine("store");

    public static async Task<BackupFixture> StartAsync(int members = 3, RetentionOptions? retention = null, BackupPipelineOptions? pipeline = null)
    {
        var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = members });
        var temp = new TempDirectory("h6-backup");
        var store = new InterceptingBackupStore(new LocalDirectoryBackupStore(temp.Combine("store"), TimeSpan.Zero));
        var keys = new LocalKeyStore(temp.Combine("keys"));
        await keys.InitializeAsync();
        var options = new EtcdBackupOptions
        {
            Store = new StoreOptions { Uri = new Uri(temp.Combine("store")).AbsoluteUri, ImmutabilityDays = 0 },
            Clusters =
            {
                [ClusterName] = new ClusterOptions
                {
                    Endpoints = [.. cluster.ClientUrls],
                    Retention = retention ?? new RetentionOptions(),
                },
            },
        };
        Directory.CreateDirectory(temp.Combine("tmp"));
        var fixture = new BackupFixture(cluster, temp, store, keys, options, (pipeline ?? new BackupPipelineOptions()) with { TempDirectory = temp.Combine("tmp") });
        fixture.Engine = await WorkflowTestHost.StartAsync(services => services
            .AddSingleton<IBackupStore>(store)
            .AddSingleton<IKeyStore>(keys)
            .AddEtcdBackup(options, fixture.Pipeline));
        return fixture;
    }

    /// <summary>Writes <paramref name="count"/> keys of <paramref name="valueSize"/> bytes under <paramref name="prefix"/>.</summary>
    public async Task FillAsync(int count, int valueSize, string prefix = "/registry/pods/")
    {
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(Cluster.ClientUrls[0]) });
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            // Half random, half repetitive: like real objects, compressible but not trivially.
            var value = new byte[valueSize];
            Random.Shared.NextBytes(value.AsSpan(0, valueSize / 2));
            await client.PutAsync(System.Text.Encoding.UTF8.GetBytes($"{prefix}{i:D6}"), value, cancellationToken: ct);
        });
    }

    public async Task DeletePrefixAsync(string prefix)
    {
        await using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(Cluster.ClientUrls[0]) });
        await client.DeletePrefixAsync(prefix);

        // etcd 3.4's totalKey counts every revision in the key bucket: compact, as a real cluster does regularly.
        var revision = (await client.StatusAsync()).Header.Revision;
        await client.CompactAsync(revision, physical: true);
    }

    public async Task<(OrchestrationMetadata State, BackupResult Result)> BackupAsync(string cluster = ClusterName)
    {
        var started = await Gateway.StartBackupAsync(cluster, BackupTrigger.OnDemand);
        return await Engine.CompleteAsync<BackupResult>(started.InstanceId);
    }

    /// <summary>Decrypts a stored artifact into a file (for etcdctl snapshot status).</summary>
    public async Task<string> DecryptAsync(string artifactName)
    {
        var path = Temp.Combine($"plain-{Guid.NewGuid():N}.db");
        await using var stored = await Store.OpenReadAsync(artifactName);
        await using var plain = await EtcdServerless.Core.Crypto.EnvelopeReadStream.OpenAsync(stored, Keys);
        await using var file = File.Create(path);
        await plain.CopyToAsync(file);
        return path;
    }

    /// <summary>etcdctl's own figures for a snapshot file.</summary>
    public async Task<(uint Hash, long Revision, long TotalKey, long TotalSize)> EtcdctlStatusAsync(string path)
    {
        var json = await Cluster.EtcdCtlOfflineAsync("snapshot", "status", path, "-w", "json");
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        return (root.GetProperty("hash").GetUInt32(), root.GetProperty("revision").GetInt64(), root.GetProperty("totalKey").GetInt64(), root.GetProperty("totalSize").GetInt64());
    }

    /// <summary>Every committed object in the store (name order).</summary>
    public async Task<List<string>> ListObjectsAsync()
    {
        var names = new List<string>();
        await foreach (var info in Store.ListAsync(ClusterName + "/"))
        {
            names.Add(info.Name);
        }

        return names;
    }

    public async ValueTask DisposeAsync()
    {
        if (Engine is not null)
        {
            await Engine.DisposeAsync();
        }

        await Cluster.DisposeAsync();
        Temp.Dispose();
    }
}
