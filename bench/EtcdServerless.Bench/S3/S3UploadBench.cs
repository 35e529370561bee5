using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Amazon.S3.Model;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Storage;
using EtcdServerless.S3;
using EtcdServerless.Testing.S3;

namespace EtcdServerless.Bench.S3;

/// <summary>
/// "s3": one artifact-sized upload to a local s3rver, side by side: our store (streamed, one part buffered,
/// multipart) against a single whole-object PutObject from a buffer holding the object. Prints wall time,
/// throughput and the process's peak working set; run each mode in its own process so the peaks are its own.
/// Usage: bench s3 --mode store|whole [--size-mb 256] [--part-mb 8]
/// </summary>
internal static class S3UploadBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mode = Arg(args, "--mode") ?? "store";
        var sizeMb = int.Parse(Arg(args, "--size-mb") ?? "256", CultureInfo.InvariantCulture);
        var partMb = int.Parse(Arg(args, "--part-mb") ?? "8", CultureInfo.InvariantCulture);
        await using var server = await S3rverProcess.StartAsync().ConfigureAwait(false);
        await server.CreateBucketAsync("bench").ConfigureAwait(false);
        var options = new S3StoreOptions
        {
            ServiceUrl = server.Endpoint.ToString(),
            Region = "us-east-1",
            AccessKeyId = S3rverProcess.AccessKeyId,
            SecretAccessKey = S3rverProcess.SecretAccessKey,
            PartSizeMiB = partMb,
        };
        var chunk = RandomNumberGenerator.GetBytes(1 << 20);
        var baseline = Process.GetCurrentProcess().WorkingSet64;
        var clock = Stopwatch.StartNew();
        if (mode == "store")
        {
            var location = StoreLocation.TryParseStore("s3://bench/etcd", out _)!;
            using var store = S3StoreFactory.Create(location, new StoreOptions { S3 = options, ImmutabilityDays = 0 }, TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            await store.DetectCapabilitiesAsync().ConfigureAwait(false);
            clock.Restart();
            await using var writer = await store.OpenWriteAsync("c1/big.snap.enc", new BackupObjectWriteOptions()).ConfigureAwait(false);
            for (var i = 0; i < sizeMb; i++)
            {
                await writer.Content.WriteAsync(chunk).ConfigureAwait(false);
            }

            await writer.CommitAsync().ConfigureAwait(false);
        }
        else
        {
            using var client = S3StoreFactory.CreateClient(options);
            var whole = new byte[(long)sizeMb << 20];
            for (var i = 0; i < sizeMb; i++)
            {
                chunk.CopyTo(whole, (long)i << 20);
            }

            await client.PutObjectAsync(new PutObjectRequest { BucketName = "bench", Key = "etcd/c1/big.snap.enc", InputStream = new MemoryStream(whole), UseChunkEncoding = false })
                .ConfigureAwait(false);
        }

        var elapsed = clock.Elapsed;
        using var self = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mode={mode} size={sizeMb} MiB part={partMb} MiB time={elapsed.TotalSeconds:0.00} s throughput={sizeMb / elapsed.TotalSeconds:0.0} MiB/s peak-working-set={self.PeakWorkingSet64 >> 20} MiB (at start {baseline >> 20} MiB)"));
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
