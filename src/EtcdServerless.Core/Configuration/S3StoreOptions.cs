namespace EtcdServerless.Core.Configuration;

/// <summary>
/// Settings of an <c>s3://bucket/prefix</c> store (<c>Store:S3:*</c>). Every one is optional: what is not set
/// here comes from the AWS SDK's own sources (<c>AWS_REGION</c>, <c>AWS_ENDPOINT_URL_S3</c>,
/// <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, shared profiles, instance/pod roles).
/// </summary>
public sealed class S3StoreOptions
{
    /// <summary>Endpoint of an S3-compatible service (MinIO, Ceph, s3rver), e.g. <c>https://minio.example:9000</c>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>The bucket's region, e.g. <c>eu-west-1</c>.</summary>
    public string? Region { get; set; }

    /// <summary>Address buckets as <c>endpoint/bucket</c> instead of <c>bucket.endpoint</c>; on by default with <see cref="ServiceUrl"/>.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>Static access key id (prefer the SDK's credential chain; set both keys or neither).</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>Static secret access key (never logged).</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>Server-side encryption: <c>AES256</c> (SSE-S3) or <c>aws:kms</c> (SSE-KMS); empty for the bucket's default.</summary>
    public string? ServerSideEncryption { get; set; }

    /// <summary>KMS key id or ARN for SSE-KMS (implies <c>aws:kms</c>).</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>Object Lock mode used where the bucket has Object Lock: <c>GOVERNANCE</c> (default) or <c>COMPLIANCE</c>.</summary>
    public string ObjectLockMode { get; set; } = "GOVERNANCE";

    /// <summary>Multipart part size in MiB (5-512); one part is buffered in memory per write.</summary>
    public int PartSizeMiB { get; set; } = 8;
}
