using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Retention;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// Runs retention after a good backup. The policy keeps the newest verified backups and the last good backup
/// before a key-count drop; the executor never deletes what is still immutable. A retention failure is
/// reported, never a backup failure.
/// </summary>
internal sealed class ApplyRetentionActivity(BackupEnvironment environment) : IActivity<RetentionRequest, RetentionOutcome>
{
    public const string ActivityName = "Backup_ApplyRetention";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<ApplyRetentionActivity>();

    public string Name => ActivityName;

    public async Task<RetentionOutcome> RunAsync(RetentionRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var cluster = environment.FindCluster(input.Cluster);
        if (cluster is null)
        {
            return new RetentionOutcome { Errors = [$"Cluster '{input.Cluster}' is not configured."] };
        }

        try
        {
            var executor = new RetentionExecutor(new BackupCatalog(environment.Store, environment.Time), environment.Time,
                environment.LoggerFactory.CreateLogger<RetentionExecutor>());
            var result = await executor.RunAsync(input.Cluster, cluster.Retention, dryRun: false, cancellationToken).ConfigureAwait(false);
            var protectedIds = result.SkippedImmutable.Select(s => s.BackupId)
                .Concat(result.Plan.ToKeep.Where(d => d.GuardsKeyCountDrop).Select(d => d.BackupId))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            return new RetentionOutcome
            {
                Deleted = result.Deleted,
                Protected = protectedIds,
                Errors = [.. result.OrphanedArtifacts.Select(a => $"artifact {a} could not be deleted (orphaned)"),
                    .. result.Damaged.Select(d => d.ToString())],
            };
        }
        catch (Exception ex) when (ex is BackupStoreException or IOException or InvalidOperationException or System.Text.Json.JsonException)
        {
            _logger.RetentionFailed(input.Cluster, ex);
            return new RetentionOutcome { Errors = [ex.Message] };
        }
    }
}
