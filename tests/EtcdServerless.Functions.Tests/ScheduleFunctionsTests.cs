using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
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

        await timer.RunAsync(new TimerInfo(), engine.Client, new InvocationContext());

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

    /// <summary>A FunctionContext with only what the timer reads (the host's own is not available here).</summary>
    private sealed class InvocationContext : FunctionContext
    {
        public override string InvocationId => "test";

        public override string FunctionId => "BackupScheduler";

        public override TraceContext TraceContext => throw new NotSupportedException();

        public override BindingContext BindingContext => throw new NotSupportedException();

        public override RetryContext RetryContext => throw new NotSupportedException();

        public override IServiceProvider InstanceServices { get; set; } = new ServiceCollection().BuildServiceProvider();

        public override FunctionDefinition FunctionDefinition => throw new NotSupportedException();

        public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

        public override IInvocationFeatures Features => throw new NotSupportedException();
    }
}
