using System.Runtime.Versioning;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Serve;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Drills;
using EtcdServerless.Testing.Etcd;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Cli.Tests.Serve;

/// <summary>
/// <c>serve</c>'s drill schedule: with a real backup of a real etcd in the store, the background service starts the
/// drill orchestration for the cluster whose <c>Drill:Schedule</c> comes due, and the drill is recorded; a cluster
/// without a drill schedule is left alone.
/// </summary>
[Trait("Category", "Cli")]
[UnsupportedOSPlatform("windows")]
public sealed class ScheduledDrillServiceTests
{
    [Fact]
    public async Task Service_DrillScheduleDue_DrillsTheLatestBackupAndRecordsIt()
    {
        await using var etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await etcd.EtcdCtlAsync("put", "/k", "v");
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var loaded = ConfigurationLoader.Load(env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = etcd.ClientUrls, ["quiet"] = etcd.ClientUrls }), new System.Collections.Hashtable());
        loaded.Options.Clusters["lab"].Drill = new ClusterDrillOptions { Schedule = "* * * * * *" };
        await using var app = BackupApplication.Create(loaded.Options, NullLoggerFactory.Instance);
        var backup = await app.RunBackupAsync("lab", BackupTrigger.OnDemand);
        Assert.True(backup.Succeeded, backup.Message);
        Assert.True((await app.RunBackupAsync("quiet", BackupTrigger.OnDemand)).Succeeded);
        using var service = new ScheduledDrillService(app, TimeProvider.System, NullLogger<ScheduledDrillService>.Instance);

        Assert.Equal(["lab"], service.Scheduler.Clusters);
        await service.StartAsync(CancellationToken.None);
        DrillResult? drill = null;
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while ((drill = await DrillRecords.GetLatestAsync(app.Store, "lab", backup.Manifest!.BackupId)) is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }

        Assert.NotNull(drill);
        Assert.True(drill.Passed, drill.FirstFailure?.Detail);
        Assert.Equal("local", drill.RanOn);
        Assert.Empty(await DrillRecords.GetLatestByBackupAsync(app.Store, "quiet"));
    }
}
