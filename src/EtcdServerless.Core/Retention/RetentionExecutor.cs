using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Retention;

/// <summary>
/// Applies a <see cref="RetentionPlan"/>. For each backup to delete it first checks that neither object is
/// still immutable (then it skips and reports it), deletes the manifest (so no listed backup ever lacks its
/// artifact) and then the artifact; an artifact that cannot be deleted becomes an orphan that the orphan
/// cleanup retries. It reports which KEK versions retained backups still need, so no key is retired early.
/// </summary>
internal sealed partial class RetentionExecutor
{
    private readonly BackupCatalog _catalog;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public RetentionExecutor(BackupCatalog catalog, TimeProvider? timeProvider = null, ILogger<RetentionExecutor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        _catalog = catalog;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Lists the cluster's backups, plans with <paramref name="options"/> and applies the plan (unless <paramref name="dryRun"/>).</summary>
    public async Task<RetentionResult> RunAsync(string cluster, RetentionOptions options, bool dryRun, CancellationToken cancellationToken = default)
    {
        // Damaged catalog entries are neither planned nor deleted (their age and immutability are unknown): reported.
        var scan = await _catalog.ScanAsync(cluster, cancellationToken).ConfigureAwait(false);
        var plan = new RetentionPolicy(options, _timeProvider).Plan(scan.Backups);
        var result = await ExecuteAsync(plan, dryRun, cancellationToken).ConfigureAwait(false);
        return result with { Damaged = scan.Damaged };
    }

    /// <summary>
    /// Applies <paramref name="plan"/>. A dry run takes the same decisions (including the immutability check) and
    /// only skips the deletes, so what it reports is what the real run does.
    /// </summary>
    public async Task<RetentionResult> ExecuteAsync(RetentionPlan plan, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var required = plan.ToKeep
            .Select(d => d.Backup.Key)
            .Distinct()
            .OrderBy(k => k.KekId, StringComparer.Ordinal)
            .ThenBy(k => k.KekVersion, StringComparer.Ordinal)
            .ToList();
        var deleted = new List<string>();
        var immutable = new List<RetentionSkip>();
        var orphaned = new List<string>();
        var store = _catalog.Store;
        var now = _timeProvider.GetUtcNow();
        foreach (var decision in plan.ToDelete)
        {
            var backup = decision.Backup;
            var manifestName = BackupNaming.ManifestName(backup.Cluster, backup.BackupId);
            var manifestInfo = await store.GetInfoAsync(manifestName, cancellationToken).ConfigureAwait(false);
            var artifactInfo = await store.GetInfoAsync(backup.Artifact.Name, cancellationToken).ConfigureAwait(false);
            var bundleInfo = backup.Bundle is { } bundle ? await store.GetInfoAsync(bundle.Name, cancellationToken).ConfigureAwait(false) : null;
            var until = Max(Max(manifestInfo?.RetainUntil, artifactInfo?.RetainUntil), bundleInfo?.RetainUntil);
            if (until > now)
            {
                Log.SkippedImmutable(_logger, backup.BackupId, until.Value);
                immutable.Add(new RetentionSkip(backup.BackupId, until.Value));
                continue;
            }

            if (dryRun)
            {
                continue;
            }

            try
            {
                if (manifestInfo is not null)
                {
                    await store.DeleteAsync(manifestName, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (BackupObjectImmutableException ex)
            {
                // Retention was extended between the check and the delete: keep the whole backup.
                Log.SkippedImmutable(_logger, backup.BackupId, until ?? now);
                immutable.Add(new RetentionSkip(backup.BackupId, until ?? now, ex.Message));
                continue;
            }
            catch (BackupObjectNotFoundException)
            {
            }

            foreach (var (name, present) in new[] { (backup.Artifact.Name, artifactInfo is not null), (backup.Bundle?.Name ?? "", bundleInfo is not null) })
            {
                try
                {
                    if (present)
                    {
                        await store.DeleteAsync(name, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (BackupStoreException ex) when (ex is not BackupObjectNotFoundException)
                {
                    Log.ArtifactOrphaned(_logger, name, ex);
                    orphaned.Add(name);
                }
            }

            // Drill records only describe this backup: they go with it.
            await DrillRecords.DeleteAllAsync(store, backup.Cluster, backup.BackupId, cancellationToken).ConfigureAwait(false);
            Log.Deleted(_logger, backup.BackupId, string.Join("; ", decision.Reasons));
            deleted.Add(backup.BackupId);
        }

        return new RetentionResult(plan, dryRun, deleted, immutable, orphaned, required);
    }

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a > b ? a : b);

    private static partial class Log
    {
        [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Retention deleted backup {BackupId} ({Reasons})")]
        public static partial void Deleted(ILogger logger, string backupId, string reasons);

        [LoggerMessage(EventId = 3302, Level = LogLevel.Information, Message = "Retention kept backup {BackupId}: immutable until {RetainUntil:O}")]
        public static partial void SkippedImmutable(ILogger logger, string backupId, DateTimeOffset retainUntil);

        [LoggerMessage(EventId = 3303, Level = LogLevel.Warning, Message = "Retention removed the manifest but not the artifact {Artifact}; orphan cleanup will retry")]
        public static partial void ArtifactOrphaned(ILogger logger, string artifact, Exception exception);
    }
}

/// <summary>What a retention run did (or, for a dry run, would do).</summary>
internal sealed record RetentionResult(
    RetentionPlan Plan,
    bool DryRun,
    IReadOnlyList<string> Deleted,
    IReadOnlyList<RetentionSkip> SkippedImmutable,
    IReadOnlyList<string> OrphanedArtifacts,
    IReadOnlyList<KeyReference> RequiredKeys)
{
    /// <summary>Catalog entries that could not be read and were left alone (reported by name).</summary>
    public IReadOnlyList<DamagedCatalogEntry> Damaged { get; init; } = [];

    /// <summary>The backups this run deletes (or, for a dry run, would delete): the plan minus those still immutable.</summary>
    public IReadOnlyList<string> ToDeleteNow =>
        DryRun ? [.. Plan.ToDelete.Select(d => d.BackupId).Where(id => !SkippedImmutable.Any(s => s.BackupId == id))] : Deleted;
}

/// <summary>A backup retention wanted to delete but the store still holds immutable.</summary>
internal sealed record RetentionSkip(string BackupId, DateTimeOffset RetainUntil, string? Detail = null);
