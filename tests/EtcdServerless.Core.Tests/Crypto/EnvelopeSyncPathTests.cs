using EtcdServerless.Core.Crypto;
using static EtcdServerless.Core.Tests.Crypto.EnvelopeTestHelpers;

namespace EtcdServerless.Core.Tests.Crypto;

/// <summary>The synchronous Stream overloads (used by CopyTo and by callers mixing sync and async) behave like the async ones.</summary>
public sealed class EnvelopeSyncPathTests
{
    [Theory]
    [InlineData(0)]
    [InlineData((3 * ChunkSize) + 7)]
    public async Task SyncWriteAndSyncRead_RoundTrip(int size)
    {
        using var kek = NewKek();
        var plaintext = Plaintext(size);
        using var output = new MemoryStream();
        var options = new EnvelopeOptions { Compression = EnvelopeCompression.None, ChunkSize = ChunkSize };
        await using (var sealer = await EnvelopeWriteStream.CreateAsync(output, kek, options, leaveOpen: true))
        {
            // Mix: a sync write after an async one must wait for the in-flight chunk write.
            await sealer.WriteAsync(plaintext.AsMemory(0, size / 2));
            sealer.Write(plaintext, size / 2, size - (size / 2));
            sealer.Flush();
            await sealer.CompleteAsync();
        }

        await using var reader = await EnvelopeReadStream.OpenAsync(new MemoryStream(output.ToArray()), Resolver(kek));
        using var result = new MemoryStream();
        reader.CopyTo(result);

        Assert.Equal(plaintext, result.ToArray());
    }

    [Fact]
    public async Task Flush_BeforeComplete_DoesNotProduceAValidArtifact()
    {
        using var kek = NewKek();
        using var output = new MemoryStream();
        await using (var sealer = await EnvelopeWriteStream.CreateAsync(output, kek, new EnvelopeOptions { Compression = EnvelopeCompression.None, ChunkSize = ChunkSize }, leaveOpen: true))
        {
            await sealer.WriteAsync(Plaintext(ChunkSize + 10));
            await sealer.FlushAsync();
        }

        var (yielded, error) = await OpenAsync(output.ToArray(), kek);

        Assert.IsType<EnvelopeTruncatedException>(error);
        Assert.True(yielded.Length <= ChunkSize);
    }
}
