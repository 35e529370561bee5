using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Workflows.Deltas;
using EtcdServerless.Workflows.Tests.Backup;

namespace EtcdServerless.Workflows.Tests.Deltas;

/// <summary>The delta orchestration on the real Durable Task engine against a real etcd and the local store (held mid-write by the intercepting store).</summary>
public sealed class DeltaOrchestrationTests
{
    [Fact]
    public async Task Deltas_NoFullBackupYet_TakesOneAsASubOrchestrationThenTheNextRunCaptures()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(10, 64);

        var first = await f.Gateway.StartDeltasAsync(BackupFixture.ClusterName);
        var (state, run) = await f.Engine.CompleteAsync<DeltaRunResult>(first.InstanceId);

        Assert.Equal(DeltaOrchestrator.OrchestratorName, state.Name);
        Assert.StartsWith("deltas-c1-", state.InstanceId, StringComparison.Ordinal);
        Assert.True(run.Capture.NeedsFullBackup);
        Assert.True(run.FullBackup is { Succeeded: true }, run.FullBackup?.Message);
        await f.FillAsync(5, 64, "/registry/configmaps/");

        var second = await f.Gateway.StartDeltasAsync(BackupFixture.ClusterName);
        var (_, next) = await f.Engine.CompleteAsync<DeltaRunResult>(second.InstanceId);

        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.Null(next.FullBackup);
        Assert.True(next.Capture.Succeeded, next.Capture.Message);
        Assert.Equal(run.FullBackup!.Manifest!.Snapshot.Revision + 1, next.Capture.Segment!.FromRevision);
        Assert.Equal(5, next.Capture.Segment.Events);
    }

    [Fact]
    public async Task StartDeltas_WhileOneRuns_JoinedNeverStacked()
    {
        await using var f = await BackupFixture.StartAsync(members: 1);
        await f.FillAsync(10, 64);
        Assert.True((await f.BackupAsync()).Result.Succeeded);
        await f.FillAsync(10, 64, "/registry/secrets/");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Store.OnArtifactWrite = async _ =>
        {
            entered.TrySetResult();
            await gate.Task;
        };

        var first = await f.Gateway.StartDeltasAsync(BackupFixture.ClusterName);
        await entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var joined = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => f.Gateway.StartDeltasAsync(BackupFixture.ClusterName)));
        gate.SetResult();
        var (_, run) = await f.Engine.CompleteAsync<DeltaRunResult>(first.InstanceId);

        Assert.All(joined, j => Assert.True(j.Deduplicated && j.InstanceId == first.InstanceId));
        Assert.True(run.Capture.Succeeded, run.Capture.Message);
        Assert.Single(await new DeltaCatalog(f.Store, f.Keys).ListAsync(BackupFixture.ClusterName));
        Assert.Single(await new BackupCatalog(f.Store).ListAsync(BackupFixture.ClusterName));
    }
}
