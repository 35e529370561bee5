using Amazon.S3;

namespace EtcdServerless.S3;

/// <summary>Where the store writes and how (resolved from <c>Store:Uri</c> and <c>Store:S3:*</c>).</summary>
internal sealed record S3StoreSettings
{
    /// <summary>The smallest part S3 accepts (except the last one).</summary>
    public const int MinPartSize = 5 * 1024 * 1024;

    /// <summary>An upper bound that keeps one buffered part affordable.</summary>
    public const int MaxPartSize = 512 * 1024 * 1024;

    public required string Bucket { get; init; }

    /// <summary>Key prefix, empty or ending in '/'.</summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>Retention of writes that name none.</summary>
    public TimeSpan DefaultRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Bytes per multipart part; also the single-request threshold.</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>SSE method (<c>AES256</c>, <c>aws:kms</c>) or null for the bucket default.</summary>
    public ServerSideEncryptionMethod? ServerSideEncryption { get; init; }

    /// <summary>KMS key for SSE-KMS.</summary>
    public string? KmsKeyId { get; init; }

    /// <summary>Object Lock mode where the bucket has Object Lock.</summary>
    public ObjectLockMode ObjectLockMode { get; init; } = ObjectLockMode.Governance;

    /// <summary>Lets tests shorten the part size below S3's minimum (s3rver accepts small parts).</summary>
    internal bool AllowSmallParts { get; init; }

    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Bucket);
        if (KeyPrefix.Length > 0 && !KeyPrefix.EndsWith('/'))
        {
            throw new ArgumentException("The key prefix must be empty or end in '/'.", nameof(KeyPrefix));
        }

        if (PartSize > MaxPartSize || (PartSize < MinPartSize && !AllowSmallParts) || PartSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PartSize), PartSize, $"The part size must be {MinPartSize / 1024 / 1024}-{MaxPartSize / 1024 / 1024} MiB.");
        }

        if (DefaultRetention < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultRetention), "Retention cannot be negative.");
        }
    }
}
