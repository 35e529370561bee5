using EtcdServerless.Agent.Tests.Drills;
using EtcdServerless.Agent.Tests.Materialize;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Deltas;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Functions.Tests;

/// <summary>
/// The Function App's PointInTime activity shim, composed from app settings exactly as the app is (no etcd needed on
/// this side: the cluster's <c>Deltas:MaterializeAgentUrl</c> names a real member agent over real mutual TLS), run on
/// a real full backup and real delta segments: it commits a sealed point-in-time backup at the target.
/// </summary>
public sealed class PointInTimeActivityFunctionTests(AgentMaterializeFixture f) : IClassFixture<AgentMaterializeFixture>
{
    [Fact]
    public async Task PointInTime_ClusterWithMaterializeAgent_MaterializesOnTheAgentAndCommitsTheBackup()
    {
        var c = f.Cluster;
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Uri"] = new Uri(c.Temp.Combine("store")).AbsoluteUri,
            ["Keys:Uri"] = new Uri(c.Temp.Combine("keys")).AbsoluteUri,
            ["Api:ApiKey"] = Workflows.Http.ApiKey.Generate(),
            [$"Clusters:{AgentDrillFixture.Cluster}:Endpoints:0"] = c.Agents.ClientUrls[0],
            [$"Clusters:{AgentDrillFixture.Cluster}:Deltas:MaterializeAgentUrl"] = c.AgentUrl,
            ["Restore:AgentTls:CertFile"] = c.OrchestratorCert.CertPath,
            ["Restore:AgentTls:KeyFile"] = c.OrchestratorCert.KeyPath,
            ["Restore:AgentTls:CaFile"] = c.Certs.CaCertPath,
        }).Build();
        await using var provider = (await new ServiceCollection().AddEtcdBackupFunctionsAsync(settings)).BuildServiceProvider();

        var result = await new ActivityFunctions(provider).PointInTime(
            new PointInTimeRequest(AgentDrillFixture.Cluster, f.TargetInSecond, null, DryRun: false), new TestFunctionContext(PointInTimeActivity.ActivityName));

        Assert.True(result.Error is null, result.Error);
        Assert.Equal(f.TargetInSecond, result.Revision);
        var manifest = await new BackupCatalog(c.Store).GetAsync(AgentDrillFixture.Cluster, result.BackupId!);
        Assert.Equal(f.TargetInSecond, manifest.Snapshot.Revision);
        Assert.Equal(c.Manifest.BackupId, manifest.MaterializedFrom!.BaseBackupId);
        Assert.Equal(f.Segments.Select(s => s.SegmentId), manifest.MaterializedFrom.Segments);
        // Only the agent's materialize endpoint makes this folder (this host has etcd, so a local replay would pass too).
        Assert.True(Directory.Exists(f.ScratchRoot), "the agent never materialized");
        Assert.Empty(Directory.GetFileSystemEntries(f.ScratchRoot));
    }
}
