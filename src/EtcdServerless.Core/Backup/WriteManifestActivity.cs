using System.Reflection;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>
/// Writes the manifest, the commit point of a backup, after comparing its key count with the previous
/// backup's: a drop beyond <see cref="BackupPipelineOptions.KeyCountDropThreshold"/> is flagged in the manifest
/// (retention then keeps the last backup before the drop).
/// </summary>
internal sealed class WriteManifestActivity(BackupEnvironment environment) : IActivity<WriteManifestRequest, WriteManifestResult>
{
    public const string ActivityName = "Backup_WriteManifest";

    private static readonly string s_toolVersion =
        typeof(WriteManifestActivity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<WriteManifestActivity>();

    public string Name => ActivityName;

    public async Task<WriteManifestResult> RunAsync(WriteManifestRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var catalog = new BackupCatalog(environment.Store, environment.Time);
        var staged = input.Artifact;
        try
        {
            var previous = (await catalog.ListAsync(input.Cluster, cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(m => string.CompareOrdinal(m.BackupId, staged.BackupId) < 0);
            var dropped = IsDrop(staged.Snapshot.TotalKey, previous?.Snapshot.TotalKey, environment.Pipeline.KeyCountDropThreshold);
            var unsigned = new BackupManifest
            {
                BackupId = staged.BackupId,
                Cluster = input.Cluster,
                Created = staged.Created,
                Source = staged.Source,
                Snapshot = staged.Snapshot,
                Artifact = staged.Artifact,
                Bundle = input.Bundle,
                Key = staged.Key,
                ToolVersion = s_toolVersion,
                Durations = staged.Durations with { Total = input.Now - input.StartedAt },
                Flags = new BackupFlags { Verified = true, KeyCountDropped = dropped },
            };
            BackupManifest manifest;
            using (var kek = await environment.Keys.GetAsync(staged.Key.KekId, staged.Key.KekVersion, cancellationToken).ConfigureAwait(false))
            {
                manifest = ManifestAuthenticator.Sign(unsigned, kek);
            }

            await catalog.WriteManifestAsync(manifest, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (dropped)
            {
                _logger.KeyCountDropped(input.Cluster, staged.BackupId, staged.Snapshot.TotalKey, previous!.Snapshot.TotalKey);
            }

            return new WriteManifestResult { Succeeded = true, Manifest = manifest, PreviousTotalKey = previous?.Snapshot.TotalKey };
        }
        catch (BackupObjectExistsException ex)
        {
            return new WriteManifestResult { Succeeded = false, Message = $"Backup {staged.BackupId} already has a manifest: {ex.Message}" };
        }
        catch (KeyNotFoundException ex)
        {
            return new WriteManifestResult { Succeeded = false, Message = $"Signing the manifest failed: {ex.Message}" };
        }
        catch (Exception ex) when (ex is BackupStoreException or InvalidOperationException)
        {
            return new WriteManifestResult { Succeeded = false, Message = $"Writing the manifest failed: {ex.Message}" };
        }
    }

    /// <summary>True when <paramref name="totalKey"/> fell below (1 - threshold) of the previous count.</summary>
    internal static bool IsDrop(long totalKey, long? previousTotalKey, double threshold) =>
        threshold > 0 && previousTotalKey is > 0 && totalKey < previousTotalKey.Value * (1 - threshold);
}
