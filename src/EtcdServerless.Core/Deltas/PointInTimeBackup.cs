using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// Turns a materialization into a backup the restore path takes as it is: the snapshot at the target revision,
/// sealed (envelope, identity bound) and committed with a signed manifest that says where it came from
/// (<see cref="BackupManifest.MaterializedFrom"/>). Its id is the time the cluster was known to be past the target
/// (less a millisecond) and the target revision, so it sorts before any backup of a newer state, and asking for the
/// same point again finds it instead of materializing twice. The replay runs here when etcd is installed, or on the
/// cluster's materialize agent (<see cref="DeltaOptions.AgentUrlFor"/>) where it cannot run (a Function App): either
/// way the snapshot comes back into a 0600 file under the pipeline's temp directory and is sealed here, with the key
/// that never left this process.
/// </summary>
internal sealed class PointInTimeBackup(BackupEnvironment environment, AgentClient? agents = null)
{
    private static readonly string s_toolVersion =
        typeof(PointInTimeBackup).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    /// <summary>The plan for a target (no materialization).</summary>
    public Task<MaterializePlan> PlanAsync(string cluster, long? toRevision, DateTimeOffset? toTime, CancellationToken cancellationToken = default) =>
        Materializer().PlanAsync(cluster, toRevision, toTime, cancellationToken);

    /// <summary>
    /// The backup holding the plan's target revision: the full backup itself when no segment is needed, an earlier
    /// point-in-time backup of the same point, or a new one materialized and committed now.
    /// </summary>
    public async Task<BackupManifest> EnsureAsync(MaterializePlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Segments.Count == 0)
        {
            return plan.Base;
        }

        var catalog = new BackupCatalog(environment.Store, environment.Time);
        var created = (plan.KnownBy ?? plan.Segments[^1].Captured).AddMilliseconds(-1);
        var backupId = BackupNaming.CreateBackupId(created, plan.TargetRevision);
        try
        {
            var existing = await catalog.GetAsync(plan.Cluster, backupId, cancellationToken).ConfigureAwait(false);
            if (existing.Snapshot.Revision == plan.TargetRevision)
            {
                return existing;
            }
        }
        catch (BackupObjectNotFoundException)
        {
        }

        var scratch = ThrowawayEtcd.CreateScratchFolder(environment.Pipeline.TempDirectory, DeltaMaterializer.FolderPrefix + "pit-");
        try
        {
            var file = Path.Combine(scratch, "point-in-time.db");
            await MaterializeAsync(plan, file, cancellationToken).ConfigureAwait(false);
            return await SealAsync(plan, backupId, created, file, catalog, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ThrowawayEtcd.DeleteScratchFolder(scratch);
        }
    }

    private async Task<BackupManifest> SealAsync(MaterializePlan plan, string backupId, DateTimeOffset created, string file, BackupCatalog catalog, CancellationToken cancellationToken)
    {
        var status = await SnapshotInspector.InspectAsync(file, new SnapshotInspectionOptions { Trailer = SnapshotTrailerMode.Present }, cancellationToken).ConfigureAwait(false);
        using var kek = await environment.Keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
        var artifactName = BackupNaming.ArtifactName(plan.Cluster, backupId);
        var retainUntil = environment.Time.GetUtcNow().AddDays(environment.Options.Store.ImmutabilityDays);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        StoredObjectInfo committed;
        EnvelopeWriteStream envelope;
        var writer = await environment.Store.OpenWriteAsync(artifactName, new BackupObjectWriteOptions
        {
            RetainUntil = retainUntil,
            RequireImmutability = environment.Options.Store.RequireImmutability,
            Tags = BackupCatalog.ArtifactTags(plan.Cluster, status.Revision, verified: true),
        }, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            envelope = await EnvelopeWriteStream.CreateAsync(writer.Content, kek, environment.Pipeline.Envelope,
                ManifestAuthenticator.Identity(plan.Cluster, backupId), leaveOpen: true, cancellationToken).ConfigureAwait(false);
            await using (envelope.ConfigureAwait(false))
            {
                var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                await using (input.ConfigureAwait(false))
                {
                    var buffer = new byte[1 << 20];
                    int read;
                    while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        sha.AppendData(buffer, 0, read);
                        size += read;
                        await envelope.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    }
                }

                await envelope.CompleteAsync(cancellationToken).ConfigureAwait(false);
                committed = await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        var manifest = ManifestAuthenticator.Sign(new BackupManifest
        {
            BackupId = backupId,
            Cluster = plan.Cluster,
            Created = created,
            Source = plan.Base.Source with { Name = "materialized", Endpoint = "", IsLeader = false },
            Snapshot = new SnapshotInfo
            {
                Sha256 = Convert.ToHexStringLower(sha.GetHashAndReset()),
                Size = size,
                Revision = status.Revision,
                TotalKey = status.TotalKey,
                Hash = status.Hash,
            },
            Artifact = ArtifactInfo.Sealed(artifactName, envelope, committed, retainUntil),
            Key = KeyReference.To(environment.Keys, kek),
            ToolVersion = s_toolVersion,
            Flags = new BackupFlags { Verified = true },
            MaterializedFrom = new MaterializedFromInfo { BaseBackupId = plan.Base.BackupId, Segments = [.. plan.Segments.Select(s => s.SegmentId)] },
        }, kek);
        await catalog.WriteManifestAsync(manifest, cancellationToken: cancellationToken).ConfigureAwait(false);
        return manifest;
    }

    private async Task MaterializeAsync(MaterializePlan plan, string file, CancellationToken cancellationToken)
    {
        var agentUrl = DeltaOptions.AgentUrlFor(environment.FindCluster(plan.Cluster));
        if (agentUrl is null)
        {
            var tools = new EtcdToolPaths();
            if (ExternalCommand.Locate(tools.EtcdPath) is null || (ExternalCommand.Locate(tools.EtcdutlPath) is null && ExternalCommand.Locate(tools.EtcdctlPath) is null))
            {
                // Said before anything is decrypted: on a Function App this is the configuration to fix, not a failed replay.
                throw new InvalidOperationException(
                    $"etcd and its tools are not installed on this host, so it cannot materialize: set Clusters:{plan.Cluster}:Deltas:MaterializeAgentUrl (or Clusters:{plan.Cluster}:Drill:AgentUrl) to materialize on a member's agent");
            }

            await Materializer().MaterializeAsync(plan, file, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (agents is null)
        {
            throw new InvalidOperationException(
                $"cluster '{plan.Cluster}' materializes on agent {agentUrl}, but the agent client is not configured: set Restore:AgentTls:CertFile and KeyFile");
        }

        await new AgentMaterializer(environment.Store, environment.Keys, agents, agentUrl, environment.LoggerFactory.CreateLogger<AgentMaterializer>())
            .MaterializeAsync(plan, file, cancellationToken).ConfigureAwait(false);
    }

    private DeltaMaterializer Materializer() =>
        new(environment.Store, environment.Keys, new MaterializeOptions { TempDirectory = environment.Pipeline.TempDirectory },
            environment.LoggerFactory.CreateLogger<DeltaMaterializer>());
}

/// <summary>Input of <see cref="PointInTimeActivity"/>: the cluster and exactly one target.</summary>
internal sealed record PointInTimeRequest(string Cluster, long? ToRevision, DateTimeOffset? ToTime, bool DryRun);

/// <summary>The backup a point-in-time restore uses (null with <see cref="Error"/> when there is none), and the chain behind it.</summary>
internal sealed record PointInTimeResult(string? BackupId, string? Chain, long Revision, string? Error);

/// <summary>
/// The restore's materialize-first step: plans the chain for the target and, unless it is a dry run, materializes
/// it into a point-in-time backup (<see cref="PointInTimeBackup"/>) the rest of the restore takes like any backup.
/// A dry run answers the chain and the full backup it starts from. The replay runs here where etcd can run (the CLI
/// and <c>serve</c>), or on the cluster's materialize agent (the Function App); an agent that cannot be reached or
/// fails is a result error, like any other failed materialization.
/// </summary>
internal sealed class PointInTimeActivity(BackupEnvironment environment, AgentClient? agents = null) : IActivity<PointInTimeRequest, PointInTimeResult>
{
    public const string ActivityName = "RestorePointInTime";

    public string Name => ActivityName;

    public async Task<PointInTimeResult> RunAsync(PointInTimeRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var pit = new PointInTimeBackup(environment, agents);
        MaterializePlan plan;
        try
        {
            plan = await pit.PlanAsync(input.Cluster, input.ToRevision, input.ToTime, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or InvalidDataException or BackupStoreException)
        {
            return new PointInTimeResult(null, null, 0, ex.Message);
        }

        var chain = plan.Describe();
        if (input.DryRun)
        {
            return new PointInTimeResult(plan.Base.BackupId, chain, plan.TargetRevision, null);
        }

        try
        {
            var backup = await pit.EnsureAsync(plan, cancellationToken).ConfigureAwait(false);
            return new PointInTimeResult(backup.BackupId, chain, backup.Snapshot.Revision, null);
        }
        catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or EndOfStreamException or IOException or CryptographicException
            or KeyNotFoundException or TimeoutException or Etcd.Errors.EtcdException or BackupStoreException or AgentCallException or HttpRequestException)
        {
            return new PointInTimeResult(null, chain, plan.TargetRevision, string.Create(CultureInfo.InvariantCulture, $"materializing revision {plan.TargetRevision} failed: {ex.Message}"));
        }
    }
}
