using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EtcdServerless.Functions.Tests;

/// <summary>The minute timer, called as the host would, with a real Durable client and real etcd behind the backup.</summary>
public sealed class ScheduleFunctionsTests
{
    [Fact]
    public async Task Run_ClusterDueThisMinute_StartsItsBackupAndLeavesTheOthers()
    {
        await using var etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        using var temp = new TempDirectory("fx-timer");
        var keys = new LocalKeyStore(temp.Combine("keys"));
        await keys.InitializeAsync();
        var store = new LocalDirectoryBackupStore(temp.Combine("store"), TimeSpan.Zero);
        var options = new EtcdBackupOptions
        {
            Clusters =
            {
                // 10:15 is due at 10:15; the nightly one is not.
                ["due"] = new ClusterOptions { Endpoints = [.. etcd.ClientUrls], Schedule = "0 */15 * * * *" },
                ["nightly"] = new ClusterOptions { Endpoints = [.. etcd.ClientUrls], Schedule = "0 0 2 * * *" },
                ["manual"] = new ClusterOptions { Endpoints = [.. etcd.ClientUrls] },
            },
        };
        await using var engine = await WorkflowTestHost.StartAsync(s => s
            .AddSingleton<IBackupStore>(store).AddSingleton<IKeyStore>(keys).AddEtcdBackup(options, new BackupPipelineOptions { TempDirectory = temp.Path }));
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 10, 15, 20, TimeSpan.Zero));
        var timer = new ScheduleFunctions(options, clock, NullLogger<ScheduleFunctions>.Instance);

        await timer.RunAsync(new TimerInfo(), engine.Client, new TestFunctionContext("BackupScheduler"));

        var catalog = new BackupCatalog(store);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await catalog.ListAsync("due")).Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Single(await catalog.ListAsync("due"));
        Assert.Empty(await catalog.ListAsync("nightly"));
        Assert.Empty(await catalog.ListAsync("manual"));
    }

    [Fact]
    public async Task Run_DrillDueThisMinute_DrillsTheLatestBackupAndRecordsIt()
    {
        // The drill runs locally here (no Drill:AgentUrl): the timer and the orchestration are what is under test;
        // the agent path is proven in EtcdServerless.Agent.Tests with a real agent.
        await using var etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await etcd.EtcdCtlAsync("put", "/k", "v");
        using var temp = new TempDirectory("fx-drill-timer");
        var keys = new LocalKeyStore(temp.Combine("keys"));
        await keys.InitializeAsync();
        var store = new LocalDirectoryBackupStore(temp.Combine("store"), TimeSpan.Zero);
        var options = new EtcdBackupOptions
        {
            Clusters =
            {
                ["drilled"] = new ClusterOptions { Endpoints = [.. etcd.ClientUrls], Drill = new ClusterDrillOptions { Schedule = "0 15 10 * * *" } },
                ["later"] = new ClusterOptions { Endpoints = [.. etcd.ClientUrls], Drill = new ClusterDrillOptions { Schedule = "0 0 3 * * *" } },
            },
        };
        await using var engine = await WorkflowTestHost.StartAsync(s => s
            .AddSingleton<IBackupStore>(store).AddSingleton<IKeyStore>(keys).AddEtcdBackup(options, new BackupPipelineOptions { TempDirectory = temp.Path }));
        foreach (var cluster in options.Clusters.Keys)
        {
            var backup = await engine.Gateway.StartBackupAsync(cluster, BackupTrigger.OnDemand);
            await engine.CompleteAsync<BackupResult>(backup.InstanceId);
        }

        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 10, 15, 20, TimeSpan.Zero));
        var timer = new ScheduleFunctions(options, clock, NullLogger<ScheduleFunctions>.Instance);

        await timer.RunAsync(new TimerInfo(), engine.Client, new TestFunctionContext("BackupScheduler"));

        var latest = (await new BackupCatalog(store).GetLatestAsync("drilled"))!;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        DrillResult? drill;
        while ((drill = await DrillRecords.GetLatestAsync(store, "drilled", latest.BackupId)) is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.NotNull(drill);
        Assert.True(drill.Passed, drill.FirstFailure?.Detail);
        Assert.Equal("local", drill.RanOn);
        Assert.Empty(await DrillRecords.GetLatestByBackupAsync(store, "later"));
    }
}
