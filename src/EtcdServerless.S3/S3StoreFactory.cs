using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using EtcdServerless.Core.Configuration;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.S3;

/// <summary>Builds an <see cref="S3BackupStore"/> from <c>Store:Uri</c> (<c>s3://bucket/prefix</c>) and <c>Store:S3:*</c>.</summary>
/// <remarks>
/// Settings first, then the AWS way: <c>AWS_ENDPOINT_URL_S3</c> / <c>AWS_ENDPOINT_URL</c> for an
/// S3-compatible endpoint, <c>AWS_REGION</c> / <c>AWS_DEFAULT_REGION</c>, and for credentials the SDK's
/// default chain (<c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, profiles, web identity, ECS/EC2
/// roles) unless <c>Store:S3:AccessKeyId</c>/<c>SecretAccessKey</c> are set.
/// </remarks>
internal static class S3StoreFactory
{
    public static S3BackupStore Create(StoreLocation location, StoreOptions options, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        if (location.Kind != LocationKind.S3Bucket || location.Bucket is null)
        {
            throw new ArgumentException("Not an s3:// location.", nameof(location));
        }

        var s3 = options.S3;
        var settings = new S3StoreSettings
        {
            Bucket = location.Bucket,
            KeyPrefix = location.KeyPrefix,
            DefaultRetention = TimeSpan.FromDays(options.ImmutabilityDays),
            PartSize = checked(s3.PartSizeMiB * 1024 * 1024),
            ServerSideEncryption = ParseEncryption(s3),
            KmsKeyId = string.IsNullOrEmpty(s3.KmsKeyId) ? null : s3.KmsKeyId,
            ObjectLockMode = ParseLockMode(s3.ObjectLockMode),
        };
        return new S3BackupStore(CreateClient(s3), settings, timeProvider, logger);
    }

    internal static AmazonS3Client CreateClient(S3StoreOptions s3, HttpClientFactory? httpClientFactory = null)
    {
        var config = new AmazonS3Config
        {
            HttpClientFactory = httpClientFactory,
            // Checksums only where an operation requires them: the default trailing checksums need
            // aws-chunked bodies, which several S3-compatible servers do not decode.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        var region = FirstSet(s3.Region, Environment.GetEnvironmentVariable("AWS_REGION"), Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION"));
        var endpoint = FirstSet(s3.ServiceUrl, Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3"), Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"));
        if (endpoint is not null)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw new ArgumentException($"Store:S3:ServiceUrl / AWS_ENDPOINT_URL_S3 '{endpoint}' is not an http(s) URL.");
            }

            if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
            {
                throw new ArgumentException($"S3 endpoint '{endpoint}' uses plain http to a non-loopback host; use https.");
            }

            config.ServiceURL = endpoint;

            // A custom endpoint signs for its region too; S3-compatible servers accept any, us-east-1 is customary.
            config.AuthenticationRegion = region ?? "us-east-1";
            config.ForcePathStyle = s3.ForcePathStyle ?? true;
        }
        else
        {
            if (region is not null)
            {
                config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
            }

            config.ForcePathStyle = s3.ForcePathStyle ?? false;
        }

        var hasKeyId = !string.IsNullOrEmpty(s3.AccessKeyId);
        var hasSecret = !string.IsNullOrEmpty(s3.SecretAccessKey);
        if (hasKeyId != hasSecret)
        {
            throw new ArgumentException("Set both Store:S3:AccessKeyId and Store:S3:SecretAccessKey, or neither (then the AWS credential chain applies).");
        }

        return hasKeyId ? new AmazonS3Client(new BasicAWSCredentials(s3.AccessKeyId, s3.SecretAccessKey), config) : new AmazonS3Client(config);
    }

    private static ServerSideEncryptionMethod? ParseEncryption(S3StoreOptions s3)
    {
        var value = s3.ServerSideEncryption;
        if (string.IsNullOrEmpty(value))
        {
            return string.IsNullOrEmpty(s3.KmsKeyId) ? null : ServerSideEncryptionMethod.AWSKMS;
        }

        if (string.Equals(value, "AES256", StringComparison.OrdinalIgnoreCase) || string.Equals(value, "SSE-S3", StringComparison.OrdinalIgnoreCase))
        {
            if (!string.IsNullOrEmpty(s3.KmsKeyId))
            {
                throw new ArgumentException("Store:S3:KmsKeyId applies to aws:kms, but Store:S3:ServerSideEncryption is AES256.");
            }

            return ServerSideEncryptionMethod.AES256;
        }

        if (string.Equals(value, "aws:kms", StringComparison.OrdinalIgnoreCase) || string.Equals(value, "SSE-KMS", StringComparison.OrdinalIgnoreCase))
        {
            return ServerSideEncryptionMethod.AWSKMS;
        }

        throw new ArgumentException($"Store:S3:ServerSideEncryption '{value}' is not AES256 (SSE-S3) or aws:kms (SSE-KMS).");
    }

    private static ObjectLockMode ParseLockMode(string? value) => value?.ToUpperInvariant() switch
    {
        null or "" or "GOVERNANCE" => ObjectLockMode.Governance,
        "COMPLIANCE" => ObjectLockMode.Compliance,
        _ => throw new ArgumentException($"Store:S3:ObjectLockMode '{value}' is not GOVERNANCE or COMPLIANCE."),
    };

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
