using EtcdServerless.Core.Crypto;
using static EtcdServerless.Core.Tests.Crypto.EnvelopeTestHelpers;

namespace EtcdServerless.Core.Tests.Crypto;

public sealed class EnvelopeRoundTripTests
{
    // Compression as its byte id: xunit theories must be public and the enum is internal.
    public static TheoryData<int, byte> Sizes()
    {
        var data = new TheoryData<int, byte>();
        foreach (var compression in Enum.GetValues<EnvelopeCompression>())
        {
            foreach (var size in new[] { 0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, (3 * ChunkSize) + 5 })
            {
                data.Add(size, (byte)compression);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task SealThenOpen_AnySize_ReturnsPlaintext(int size, byte compressionId)
    {
        var compression = (EnvelopeCompression)compressionId;
        using var kek = NewKek();
        var plaintext = Plaintext(size);

        var artifact = await SealAsync(plaintext, kek, compression);
        var (yielded, error) = await OpenAsync(artifact, kek);

        Assert.Null(error);
        Assert.Equal(plaintext, yielded);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(ChunkSize - 1, 1)]
    [InlineData(ChunkSize, 1)]
    [InlineData(ChunkSize + 1, 2)]
    [InlineData(3 * ChunkSize, 3)]
    public async Task Seal_Uncompressed_WritesWholeChunksAndOneFinal(int size, int expectedChunks)
    {
        using var kek = NewKek();

        var artifact = await SealAsync(Plaintext(size), kek);

        Assert.Equal(HeaderLength(artifact) + size + (expectedChunks * EnvelopeFormat.TagSize), artifact.Length);
    }

    [Fact]
    public async Task Seal_SamePlaintextTwice_ProducesDifferentCiphertext()
    {
        using var kek = NewKek();
        var plaintext = Plaintext(100);

        var first = await SealAsync(plaintext, kek);
        var second = await SealAsync(plaintext, kek);

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Open_Header_RecordsCompressionChunkSizeAndKek()
    {
        using var kek = NewKek("42");
        var artifact = await SealAsync(Plaintext(10), kek, EnvelopeCompression.Gzip);

        await using var reader = await EnvelopeReadStream.OpenAsync(new MemoryStream(artifact), Resolver(kek));

        Assert.Equal(EnvelopeCompression.Gzip, reader.Header.Compression);
        Assert.Equal(ChunkSize, reader.Header.ChunkSize);
        Assert.Equal("test-kek", reader.Header.KeyId);
        Assert.Equal("42", reader.Header.KeyVersion);
        Assert.Equal(1, reader.Header.FormatVersion);
    }

    [Fact]
    public async Task Compress_RepetitiveInput_IsSmallerThanPlaintext()
    {
        using var kek = NewKek();
        var plaintext = new byte[10 * ChunkSize];
        Array.Fill(plaintext, (byte)'k');

        var artifact = await SealAsync(plaintext, kek, EnvelopeCompression.Brotli);

        Assert.True(artifact.Length < plaintext.Length / 10, $"{artifact.Length} bytes");
    }

    [Theory]
    [InlineData(EnvelopeFormat.MinChunkSize - 1)]
    [InlineData(EnvelopeFormat.MaxChunkSize + 1)]
    public async Task Create_ChunkSizeOutOfRange_Throws(int chunkSize)
    {
        using var kek = NewKek();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            EnvelopeWriteStream.CreateAsync(new MemoryStream(), kek, new EnvelopeOptions { ChunkSize = chunkSize }));
    }

    [Theory]
    [InlineData((byte)EnvelopeCompression.None)]
    [InlineData((byte)EnvelopeCompression.Brotli)]
    public async Task Dispose_WithoutComplete_LeavesInvalidArtifact(byte compressionId)
    {
        var compression = (EnvelopeCompression)compressionId;
        using var kek = NewKek();
        using var output = new MemoryStream();
        await using (var sealer = await EnvelopeWriteStream.CreateAsync(output, kek, new EnvelopeOptions { Compression = compression, ChunkSize = ChunkSize }, leaveOpen: true))
        {
            await sealer.WriteAsync(Plaintext((2 * ChunkSize) + 10));
        }

        var (_, error) = await OpenAsync(output.ToArray(), kek);

        Assert.IsAssignableFrom<EnvelopeException>(error);
    }

    [Fact]
    public async Task Write_AfterComplete_Throws()
    {
        using var kek = NewKek();
        await using var sealer = await EnvelopeWriteStream.CreateAsync(new MemoryStream(), kek);
        await sealer.CompleteAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await sealer.WriteAsync(new byte[1]));
    }
}
