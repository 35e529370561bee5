using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Backup;

/// <summary>Input of <see cref="CaptureBundleActivity"/>: the backup the bundle belongs to.</summary>
internal sealed record CaptureBundleRequest(string Cluster, string BackupId, long Revision);

/// <summary>The sealed bundle, or why there is none (skipped: not configured; failed: a warning, the backup goes on).</summary>
internal sealed record CaptureBundleResult
{
    public bool Skipped { get; init; }

    public BundleArtifactInfo? Bundle { get; init; }

    public string? Message { get; init; }
}

/// <summary>
/// Asks the cluster's <c>Bundle:AgentUrl</c> agent for the control-plane bundle (a tar of its <c>Agent:Bundle:Paths</c>)
/// over the agents' mutual TLS and seals it as the backup's second artifact: the same envelope and KEK as the snapshot,
/// an identity of its own (<c>{cluster}/{backupId}/bundle</c>), streamed (never held whole) and committed write-once
/// with the snapshot's retention. The manifest then lists it. Contents are never logged (they include secrets).
/// </summary>
internal sealed class CaptureBundleActivity(BackupEnvironment environment, AgentClient? agents = null) : IActivity<CaptureBundleRequest, CaptureBundleResult>
{
    public const string ActivityName = "Backup_CaptureBundle";

    private readonly ILogger _logger = environment.LoggerFactory.CreateLogger<CaptureBundleActivity>();

    public string Name => ActivityName;

    public async Task<CaptureBundleResult> RunAsync(CaptureBundleRequest input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var agentUrl = environment.FindCluster(input.Cluster)?.Bundle.AgentUrl;
        if (string.IsNullOrWhiteSpace(agentUrl))
        {
            return new CaptureBundleResult { Skipped = true };
        }

        if (agents is null)
        {
            return new CaptureBundleResult { Message = $"Clusters:{input.Cluster}:Bundle:AgentUrl is set but Restore:AgentTls is not: the agent cannot be called" };
        }

        var name = BackupNaming.BundleName(input.Cluster, input.BackupId);
        var retainUntil = environment.Time.GetUtcNow().AddDays(environment.Options.Store.ImmutabilityDays);
        try
        {
            using var kek = await environment.Keys.GetCurrentAsync(cancellationToken).ConfigureAwait(false);
            var writer = await environment.Store.OpenWriteAsync(name, new BackupObjectWriteOptions
            {
                RetainUntil = retainUntil,
                RequireImmutability = environment.Options.Store.RequireImmutability,
                Tags = BackupCatalog.ArtifactTags(input.Cluster, input.Revision, verified: true),
            }, cancellationToken).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                var envelope = await EnvelopeWriteStream.CreateAsync(
                    writer.Content, kek, environment.Pipeline.Envelope with { ComputeArtifactSha256 = true },
                    BundleArtifactInfo.Identity(input.Cluster, input.BackupId), leaveOpen: true, cancellationToken).ConfigureAwait(false);
                (string Sha256, long Size) tar;
                await using (envelope.ConfigureAwait(false))
                {
                    tar = await agents.DownloadBundleAsync(agentUrl, (body, ct) => body.CopyToAsync(envelope, 1 << 16, ct), cancellationToken).ConfigureAwait(false);
                    await envelope.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }

                var committed = await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
                _logger.BundleSealed(input.Cluster, input.BackupId, tar.Size, committed.Length);
                return new CaptureBundleResult
                {
                    Bundle = new BundleArtifactInfo
                    {
                        Name = name,
                        Sha256 = Convert.ToHexStringLower(envelope.ArtifactSha256!),
                        Size = committed.Length,
                        TarSha256 = tar.Sha256,
                        TarSize = tar.Size,
                        FormatVersion = envelope.Header.FormatVersion,
                        Agent = agentUrl,
                        RetainUntil = committed.RetainUntil ?? retainUntil,
                    },
                };
            }
        }
        catch (Exception ex) when (ex is AgentCallException or BackupStoreException or IOException or KeyNotFoundException or CryptographicException)
        {
            // The snapshot is committed already; a backup without its bundle is still a backup (the result warns).
            _logger.BundleFailed(input.Cluster, input.BackupId, ex.Message);
            return new CaptureBundleResult { Message = $"control-plane bundle from {agentUrl}: {ex.Message}" };
        }
    }
}
