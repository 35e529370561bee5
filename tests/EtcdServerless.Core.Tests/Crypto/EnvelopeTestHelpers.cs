using System.Security.Cryptography;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;

namespace EtcdServerless.Core.Tests.Crypto;

internal static class EnvelopeTestHelpers
{
    public const int ChunkSize = EnvelopeFormat.MinChunkSize;

    public static KeyEncryptionKey NewKek(string version = "1") =>
        new("test-kek", version, RandomNumberGenerator.GetBytes(KeyEncryptionKey.KeySizeBytes));

    public static byte[] Plaintext(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static async Task<byte[]> SealAsync(byte[] plaintext, KeyEncryptionKey kek, EnvelopeCompression compression = EnvelopeCompression.None, int writeSize = 1000)
    {
        using var output = new MemoryStream();
        var options = new EnvelopeOptions { Compression = compression, ChunkSize = ChunkSize };
        await using (var sealer = await EnvelopeWriteStream.CreateAsync(output, kek, options, leaveOpen: true))
        {
            for (var offset = 0; offset < plaintext.Length; offset += writeSize)
            {
                await sealer.WriteAsync(plaintext.AsMemory(offset, Math.Min(writeSize, plaintext.Length - offset)));
            }

            await sealer.CompleteAsync();
            Assert.Equal(output.Length, sealer.ArtifactLength);
            Assert.Equal(SHA256.HashData(output.ToArray()), sealer.ArtifactSha256);
        }

        return output.ToArray();
    }

    /// <summary>Opens an artifact; returns what was yielded before any failure and the failure.</summary>
    public static async Task<(byte[] Yielded, Exception? Error)> OpenAsync(byte[] artifact, KeyEncryptionKey kek)
    {
        var yielded = new MemoryStream();
        try
        {
            await using var reader = await EnvelopeReadStream.OpenAsync(new MemoryStream(artifact), Resolver(kek));
            var buffer = new byte[777];
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
            {
                yielded.Write(buffer, 0, read);
            }

            return (yielded.ToArray(), null);
        }
        catch (Exception ex)
        {
            return (yielded.ToArray(), ex);
        }
    }

    public static Func<string, string, CancellationToken, Task<KeyEncryptionKey>> Resolver(KeyEncryptionKey kek) =>
        (id, version, _) => id == kek.KeyId && version == kek.Version
            ? Task.FromResult(new KeyEncryptionKey(kek.KeyId, kek.Version, kek.Material))
            : throw new EnvelopeKeyNotFoundException($"KEK version {id}/{version} not found");

    public static int HeaderLength(byte[] artifact) => (artifact[10] << 8) | artifact[11];
}
