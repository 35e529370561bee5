using System.Globalization;
using System.Security.Cryptography;
using Amazon.S3.Model;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.S3;

/// <summary>
/// Write-once commit for endpoints that ignore <c>If-None-Match</c> (detected at initialisation): a claim
/// object per writer, <c>{prefix}.etcd-backup/locks/{name with '/' as '!'}~{random}</c>.
/// </summary>
/// <remarks>
/// A writer puts its claim, then lists the claims. Seeing only its own, it holds the lock: it checks that the
/// object does not exist yet, writes it and only then removes its claim. Seeing another live claim, it
/// removes its own and retries after a random pause (or gives up with <see cref="BackupObjectExistsException"/>
/// once the object exists). Two writers cannot both see only their own claim on an endpoint with
/// read-after-write and list-after-write consistency (AWS S3 since 2020, MinIO, s3rver): whichever listed
/// second must see the first one's claim, which stays until that writer's object is visible. Claims older
/// than <see cref="StaleAfter"/> (a crashed writer's) are ignored, measured against the service's own
/// timestamps so client clocks do not matter. Eventually consistent endpoints must use a server with
/// conditional writes instead.
/// <para>Claims sit flat in one folder that always holds <see cref="AnchorName"/>: servers that keep objects
/// as files (s3rver) remove a folder once it is empty and fail a write racing into it.</para>
/// </remarks>
internal sealed class S3CommitLock(S3BackupStore store, string name)
{
    /// <summary>After this, a claim is a crashed writer's leftover.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(2);

    private const int MaxAttempts = 200;

    /// <summary>The object that keeps the lock folder from ever being empty.</summary>
    public const string AnchorName = "locks/.anchor";

    // '!' and '~' never occur in object names, so one name's claims never match another's prefix.
    private string LockPrefix => store.Settings.KeyPrefix + S3BackupStore.InternalFolder + "locks/" + name.Replace('/', '!') + "~";

    public async Task RunAsync<TResponse>(Func<Task<TResponse>> commit, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var claim = LockPrefix + Guid.NewGuid().ToString("N");
            await store.Client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = store.Settings.Bucket,
                Key = claim,
                InputStream = new MemoryStream([]),
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            try
            {
                if (await OnlyLiveClaimIsAsync(claim, cancellationToken).ConfigureAwait(false))
                {
                    if (await store.GetInfoAsync(name, cancellationToken).ConfigureAwait(false) is not null)
                    {
                        throw Exists();
                    }

                    await commit().ConfigureAwait(false);
                    return;
                }
            }
            finally
            {
                await store.DeleteQuietlyAsync(claim).ConfigureAwait(false);
            }

            if (await store.GetInfoAsync(name, cancellationToken).ConfigureAwait(false) is not null)
            {
                throw Exists();
            }

            store.Logger.LockBusy(store.Key(name), attempt);
            await Task.Delay(TimeSpan.FromMilliseconds(RandomNumberGenerator.GetInt32(5, 50 + Math.Min(attempt, 20) * 10)), cancellationToken)
                .ConfigureAwait(false);
        }

        throw new BackupStoreException($"Could not take the commit lock of '{name}' in {store.Description} after {MaxAttempts.ToString(CultureInfo.InvariantCulture)} attempts.");
    }

    private BackupObjectExistsException Exists() => new($"Object '{name}' already exists in {store.Description} (write-once store).");

    private async Task<bool> OnlyLiveClaimIsAsync(string claim, CancellationToken cancellationToken)
    {
        var claims = new List<S3Object>();
        var request = new ListObjectsV2Request { BucketName = store.Settings.Bucket, Prefix = LockPrefix };
        while (true)
        {
            var page = await store.Client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            claims.AddRange(page.S3Objects ?? []);
            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }

        var mine = claims.Find(c => c.Key == claim);
        if (mine?.LastModified is not { } myTime)
        {
            // Our own claim is not listed: the endpoint is not list-after-write consistent; do not proceed.
            return false;
        }

        foreach (var other in claims)
        {
            if (other.Key == claim)
            {
                continue;
            }

            if (other.LastModified is { } otherTime && otherTime < myTime - StaleAfter)
            {
                await store.DeleteQuietlyAsync(other.Key).ConfigureAwait(false);
                continue;
            }

            return false;
        }

        return true;
    }
}
