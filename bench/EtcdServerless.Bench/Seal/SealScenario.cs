using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Bench.Seal;

/// <summary>
/// "seal": the same >= 256 MiB snapshot, side by side in one run: a plain file copy (read, write, fsync)
/// against our compress + encrypt + commit into the local WORM directory store, for each compression.
/// Prints wall time (median of the repetitions), ratio to the copy, throughput, artifact size and peak
/// memory (working-set growth during the phase), and checks that every artifact opens back to the same bytes.
/// Usage: bench seal [--input SNAPSHOT] [--size-mb 256] [--reps 3] [--dir DIR]
/// </summary>
internal static class SealScenario
{
    private const int CopyBufferSize = 1 << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var input = Arg(args, "--input");
        var sizeMb = long.Parse(Arg(args, "--size-mb") ?? "256", CultureInfo.InvariantCulture);
        var reps = int.Parse(Arg(args, "--reps") ?? "3", CultureInfo.InvariantCulture);
        using var temp = new TempDirectory("bench-seal");
        var work = Arg(args, "--dir") is { } dir ? Directory.CreateDirectory(dir).FullName : temp.Path;

        if (input is null)
        {
            input = Path.Combine(work, "snapshot-like.db");
            Console.WriteLine($"generating {sizeMb} MiB etcd-like snapshot (synthetic; pass --input for a real one) ...");
            await SnapshotLikeFile.WriteAsync(input, sizeMb << 20).ConfigureAwait(false);
        }

        var length = new FileInfo(input).Length;
        var sourceHash = await HashFileAsync(input).ConfigureAwait(false); // also warms the page cache
        Console.WriteLine($"input: {input} ({length / (1 << 20)} MiB), {reps} repetitions each, {Environment.ProcessorCount} cores");

        using var kek = new KeyEncryptionKey("bench-kek", "1", RandomNumberGenerator.GetBytes(KeyEncryptionKey.KeySizeBytes));
        var store = new LocalDirectoryBackupStore(Path.Combine(work, "store"), TimeSpan.Zero);
        var rows = new List<Row>();

        var copy = await MeasureAsync(reps, async i =>
        {
            var target = Path.Combine(work, $"copy-{i}.db");
            await PlainCopyAsync(input, target).ConfigureAwait(false);
            var size = new FileInfo(target).Length;
            File.Delete(target);
            return size;
        }).ConfigureAwait(false);
        rows.Add(copy with { Name = "plain copy (read+write+fsync)" });

        foreach (var (name, compression, level, hash) in new (string, EnvelopeCompression, CompressionLevel, bool)[]
        {
            ("seal none, no artifact sha256", EnvelopeCompression.None, CompressionLevel.NoCompression, false),
            ("seal none", EnvelopeCompression.None, CompressionLevel.NoCompression, true),
            ("seal gzip fastest", EnvelopeCompression.Gzip, CompressionLevel.Fastest, true),
            ("seal brotli fastest (q1)", EnvelopeCompression.Brotli, CompressionLevel.Fastest, true),
            ("seal brotli optimal", EnvelopeCompression.Brotli, CompressionLevel.Optimal, true),
        })
        {
            var options = new EnvelopeOptions { Compression = compression, CompressionLevel = level, ComputeArtifactSha256 = hash };
            var objects = new List<string>();
            var row = await MeasureAsync(reps, async i =>
            {
                var objectName = $"bench/{compression}-{level}-{hash}-{i}.snap.enc";
                objects.Add(objectName);
                return await SealAsync(input, store, objectName, kek, options).ConfigureAwait(false);
            }).ConfigureAwait(false);
            var opened = await OpenHashAsync(store, objects[0], kek).ConfigureAwait(false);
            if (!opened.SequenceEqual(sourceHash))
            {
                await Console.Error.WriteLineAsync($"{name}: artifact does not open to the input").ConfigureAwait(false);
                return 1;
            }

            rows.Add(row with { Name = name });
            foreach (var o in objects)
            {
                await store.DeleteAsync(o).ConfigureAwait(false);
            }
        }

        Print(rows, length, copy.Median);
        return 0;
    }

    private static async Task PlainCopyAsync(string source, string target)
    {
        var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (input.ConfigureAwait(false))
        {
            var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
            await using (output.ConfigureAwait(false))
            {
                await input.CopyToAsync(output, CopyBufferSize).ConfigureAwait(false);
                output.Flush(flushToDisk: true);
            }
        }
    }

    private static async Task<long> SealAsync(string source, IBackupStore store, string name, KeyEncryptionKey kek, EnvelopeOptions options)
    {
        var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (input.ConfigureAwait(false))
        {
            var writer = await store.OpenWriteAsync(name, new BackupObjectWriteOptions()).ConfigureAwait(false);
            await using (writer.ConfigureAwait(false))
            {
                var envelope = await EnvelopeWriteStream.CreateAsync(writer.Content, kek, options, leaveOpen: true).ConfigureAwait(false);
                await using (envelope.ConfigureAwait(false))
                {
                    await input.CopyToAsync(envelope, CopyBufferSize).ConfigureAwait(false);
                    await envelope.CompleteAsync().ConfigureAwait(false);
                }

                return (await writer.CommitAsync().ConfigureAwait(false)).Length;
            }
        }
    }

    private static async Task<byte[]> OpenHashAsync(IBackupStore store, string name, KeyEncryptionKey kek)
    {
        var stream = await store.OpenReadAsync(name).ConfigureAwait(false);
        var reader = await EnvelopeReadStream.OpenAsync(
            stream, (_, _, _) => Task.FromResult(new KeyEncryptionKey(kek.KeyId, kek.Version, kek.Material))).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            return await SHA256.HashDataAsync(reader).ConfigureAwait(false);
        }
    }

    private static async Task<byte[]> HashFileAsync(string path)
    {
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            return await SHA256.HashDataAsync(stream).ConfigureAwait(false);
        }
    }

    private static async Task<Row> MeasureAsync(int reps, Func<int, Task<long>> run)
    {
        var times = new List<TimeSpan>();
        long size = 0;
        long peak = 0;
        for (var i = 0; i < reps; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();
            var baseline = process.WorkingSet64;
            var max = baseline;
            using var sampler = new Timer(_ =>
            {
                using var p = Process.GetCurrentProcess();
                var ws = p.WorkingSet64;
                if (ws > Interlocked.Read(ref max))
                {
                    Interlocked.Exchange(ref max, ws);
                }
            }, null, 0, 10);
            var watch = Stopwatch.StartNew();
            size = await run(i).ConfigureAwait(false);
            watch.Stop();
            await sampler.DisposeAsync().ConfigureAwait(false);
            times.Add(watch.Elapsed);
            peak = Math.Max(peak, Interlocked.Read(ref max) - baseline);
        }

        times.Sort();
        return new Row("", times[times.Count / 2], size, peak);
    }

    private static void Print(List<Row> rows, long inputLength, TimeSpan copyTime)
    {
        Console.WriteLine();
        Console.WriteLine($"{"scenario",-32} {"median s",9} {"x copy",7} {"MiB/s",8} {"out MiB",8} {"size %",7} {"peak WS MiB",12}");
        foreach (var row in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-32} {row.Median.TotalSeconds,9:F3} {row.Median / copyTime,7:F2} {inputLength / row.Median.TotalSeconds / (1 << 20),8:F0} {row.OutputLength / (double)(1 << 20),8:F1} {100.0 * row.OutputLength / inputLength,7:F1} {row.PeakWorkingSetGrowth / (double)(1 << 20),12:F1}"));
        }
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private sealed record Row(string Name, TimeSpan Median, long OutputLength, long PeakWorkingSetGrowth);
}
