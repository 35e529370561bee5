using EtcdServerless.Agent.Tests.Drills;
using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Deltas;

namespace EtcdServerless.Agent.Tests.Materialize;

/// <summary>
/// The drill fixture's real member under its real agent, with its real full backup, plus history after it (puts,
/// overwrites, a delete, a range delete, keys on a lease granted after the backup) captured as two real delta
/// segments, and two targets inside them.
/// </summary>
public sealed class AgentMaterializeFixture : IAsyncLifetime
{
    public AgentDrillFixture Cluster { get; } = new();

    internal IReadOnlyList<DeltaManifest> Segments { get; private set; } = [];

    /// <summary>A revision inside the first segment (the lease's key is there).</summary>
    public long TargetInFirst { get; private set; }

    /// <summary>A revision inside the second segment, past the range delete.</summary>
    public long TargetInSecond { get; private set; }

    public string ScratchRoot => Cluster.DataDir + ".materialize";

    public async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        var segments = new List<DeltaManifest>();
        using (var client = RestoreHarness.Client(Cluster.Agents.ClientUrls[0]))
        {
            await RestoreHarness.PutManyAsync(Cluster.Agents.ClientUrls[0], "/pit/a-", 8);
            await client.PutAsync("/app/key-002", "overwritten after the backup");
            await client.DeleteAsync("/app/key-003");
            var lease = await client.LeaseGrantAsync(3600);
            TargetInFirst = (await client.PutAsync("/pit/leased", "on a new lease", lease.Id)).Header.Revision;
            await RestoreHarness.PutManyAsync(Cluster.Agents.ClientUrls[0], "/pit/b-", 4);
            segments.Add(await CaptureAsync());
            await client.DeleteRangeAsync("/pit/a-"u8.ToArray(), "/pit/a."u8.ToArray());
            await client.PutAsync("/pit/leased", "rewritten on its lease", lease.Id);
            TargetInSecond = (await client.PutAsync("/pit/a-000", "recreated")).Header.Revision;
            await RestoreHarness.PutManyAsync(Cluster.Agents.ClientUrls[0], "/pit/c-", 3);
            segments.Add(await CaptureAsync());
        }

        Segments = segments;
    }

    public Task DisposeAsync() => Cluster.DisposeAsync();

    /// <summary>The environment this side uses (the store, the key), pipeline temp in the fixture's folder.</summary>
    internal BackupEnvironment Environment(Core.Configuration.EtcdBackupOptions? options = null, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null) =>
        new(options ?? Cluster.Options, Cluster.Store, Cluster.Keys, pipeline: new BackupPipelineOptions { TempDirectory = Cluster.Temp.Path }, loggerFactory: loggers);

    private async Task<DeltaManifest> CaptureAsync()
    {
        var result = await new DeltaCapture(Environment()).RunAsync(new DeltaCaptureRequest(AgentDrillFixture.Cluster));
        Assert.True(result is { Succeeded: true, Segment: not null }, result.Message);
        return result.Segment!;
    }
}
