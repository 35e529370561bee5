using Azure;
using Azure.Storage.Blobs.Models;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Azure.Blob;

// Version-level immutability: the policy a commit asks for, legal holds, and how an endpoint without the
// feature is told apart from a real failure.
internal sealed partial class BlobBackupStore
{
    /// <summary>
    /// The blob's protection as the service reports it: the immutability policy (inherited from the container's
    /// default or set on the blob) and the legal hold. Null when the blob does not exist.
    /// </summary>
    public async Task<BlobProtection?> GetProtectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var properties = await GetPropertiesAsync(_options.Prefix + name, cancellationToken).ConfigureAwait(false);
        return properties is null
            ? null
            : new BlobProtection(properties.ImmutabilityPolicy?.ExpiresOn, properties.ImmutabilityPolicy?.PolicyMode?.ToString(), properties.HasLegalHold);
    }

    /// <summary>
    /// Sets or clears a legal hold. Returns "immutability not supported by this endpoint" (not applied) where the
    /// service lacks the API; throws for other failures.
    /// </summary>
    public async Task<ImmutabilityOutcome> SetLegalHoldAsync(string name, bool hold, CancellationToken cancellationToken = default)
    {
        ValidateName(name);
        var blob = _options.Prefix + name;
        try
        {
            await _container.GetBlobClient(blob).SetLegalHoldAsync(hold, cancellationToken).ConfigureAwait(false);
            return new ImmutabilityOutcome(true, hold ? "legal hold set" : "legal hold cleared");
        }
        catch (Exception ex) when (BlobErrors.IsServiceFault(ex, cancellationToken))
        {
            return NotSupportedOrThrow(ex, "Set Blob Legal Hold", blob);
        }
    }

    private async Task<StoredObjectInfo> ProtectAsync(string blob, StoredObjectInfo info, BackupObjectWriteOptions options, CancellationToken cancellationToken)
    {
        if (options.RetainUntil is not { } until)
        {
            return info;
        }

        // A container with a default version-level policy protects the blob at commit; the app's role (least
        // privilege) cannot set policies itself, so an inherited policy that already reaches far enough is enough.
        var committed = await GetPropertiesAsync(blob, cancellationToken).ConfigureAwait(false);
        if (committed?.ImmutabilityPolicy?.ExpiresOn is { } inherited && inherited >= until)
        {
            LastImmutabilityOutcome = new ImmutabilityOutcome(true, $"retained until {inherited:O} by the container's default policy");
            return info with { RetainUntil = inherited };
        }

        ImmutabilityOutcome outcome;
        try
        {
            var policy = new BlobImmutabilityPolicy { ExpiresOn = until, PolicyMode = BlobImmutabilityPolicyMode.Unlocked };
            await _container.GetBlobClient(blob).SetImmutabilityPolicyAsync(policy, cancellationToken: cancellationToken).ConfigureAwait(false);
            outcome = new ImmutabilityOutcome(true, $"retained until {until:O}");
        }
        catch (Exception ex) when (BlobErrors.IsServiceFault(ex, cancellationToken))
        {
            outcome = NotSupportedOrThrow(ex, "Set Blob Immutability Policy", blob);
        }

        LastImmutabilityOutcome = outcome;
        if (outcome.Applied)
        {
            return info with { RetainUntil = until };
        }

        if (options.RequireImmutability)
        {
            // Not protected, so it can (and must) go: a backup that asked for WORM must not exist without it.
            try
            {
                await CallAsync(ct => _container.GetBlobClient(blob).DeleteAsync(cancellationToken: ct), "Delete Blob", blob, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            catch (BackupStoreException ex)
            {
                _logger.RollbackFailed(ex, info.Name);
            }

            throw new BackupStoreException($"'{info.Name}' requires immutability, but {outcome.Detail}; the object was removed.");
        }

        return info;
    }

    private ImmutabilityOutcome NotSupportedOrThrow(Exception exception, string operation, string blob)
    {
        // 501 is Azurite's answer; a real account without version-level WORM answers 4xx with a feature code.
        if (exception is RequestFailedException { Status: > 0 } failed
            && (failed.Status == 501 || failed.ErrorCode is "FeatureNotSupported" or "APINotImplemented" or "NotImplemented"
                || (failed.Status is 400 or 409 && failed.ErrorCode?.Contains("ImmutableStorage", StringComparison.OrdinalIgnoreCase) == true)))
        {
            _logger.ImmutabilityNotSupported(operation, blob, failed.Status, failed.ErrorCode);
            return new ImmutabilityOutcome(false, $"{ImmutabilityOutcome.NotSupported} (HTTP {failed.Status} {failed.ErrorCode})");
        }

        throw BlobErrors.Translate(exception, operation, blob, Description);
    }
}
