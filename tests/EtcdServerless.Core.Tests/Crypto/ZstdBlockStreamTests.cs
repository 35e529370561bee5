using System.Text;
using EtcdServerless.Core.Crypto;
using static EtcdServerless.Core.Tests.Crypto.EnvelopeTestHelpers;

namespace EtcdServerless.Core.Tests.Crypto;

public sealed class ZstdBlockStreamTests
{
    private const int BlockSize = 256 * 1024;

    [Fact]
    public async Task WriteAsync_MixedData_StoresRandomBlocksAndCompressesText()
    {
        // 3 random blocks, 3 text blocks, 2 random blocks: the probe after a stored block must not keep
        // compressible data stored, and random data must never be written compressed.
        var random = Plaintext(3 * BlockSize, seed: 7);
        var text = Text(3 * BlockSize);
        var tail = Plaintext(2 * BlockSize, seed: 8);
        byte[] plaintext = [.. random, .. text, .. tail];
        using var output = new MemoryStream();

        long stored, compressed;
        await using (var writer = new ZstdBlockWriteStream(output, BlockSize, ZstdBlockFormat.FastestLevel))
        {
            await WriteInPiecesAsync(writer, plaintext, 10_000);
            await writer.CompleteAsync();
            (stored, compressed) = (writer.StoredBlocks, writer.CompressedBlocks);
        }

        Assert.Equal(5, stored);
        Assert.Equal(3, compressed);
        Assert.True(output.Length < random.Length + tail.Length + (text.Length / 4), $"output {output.Length} bytes");
        Assert.Equal(plaintext, await ReadAllAsync(output.ToArray()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(BlockSize - 1)]
    [InlineData(BlockSize)]
    [InlineData((2 * BlockSize) + 3)]
    public async Task Write_SyncPath_RoundTrips(int size)
    {
        var plaintext = Text(size);
        using var output = new MemoryStream();
        using (var writer = new ZstdBlockWriteStream(output, BlockSize, ZstdBlockFormat.FastestLevel))
        {
            writer.Write(plaintext);
            await writer.CompleteAsync();
        }

        using var reader = new ZstdBlockReadStream(new MemoryStream(output.ToArray()));
        using var copy = new MemoryStream();
        reader.CopyTo(copy);
        Assert.Equal(plaintext, copy.ToArray());
    }

    [Fact]
    public async Task DisposeAsync_WithoutComplete_DropsThePartialBlock()
    {
        using var output = new MemoryStream();
        await using (var writer = new ZstdBlockWriteStream(output, BlockSize, ZstdBlockFormat.FastestLevel))
        {
            await writer.WriteAsync(Text(BlockSize + 10));
        }

        Assert.Equal(Text(BlockSize), await ReadAllAsync(output.ToArray()));
    }

    [Fact]
    public async Task WriteAsync_InnerStreamFails_ErrorSurfacesOnTheNextCall()
    {
        await using var writer = new ZstdBlockWriteStream(new FailingStream(), BlockSize, ZstdBlockFormat.FastestLevel);

        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await writer.WriteAsync(Text(3 * BlockSize));
            await writer.CompleteAsync();
        });
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "unknown kind", Block(7, 4, 4, [1, 2, 3, 4]) },
        { "zero length", Block(ZstdBlockFormat.Stored, 0, 0, []) },
        { "length over the bound", Block(ZstdBlockFormat.Stored, ZstdBlockFormat.MaxBlockSize + 1, ZstdBlockFormat.MaxBlockSize + 1, []) },
        { "stored with payload length differing", Block(ZstdBlockFormat.Stored, 4, 3, [1, 2, 3]) },
        { "zstd payload not smaller than the plaintext", Block(ZstdBlockFormat.Zstd, 4, 4, [1, 2, 3, 4]) },
        { "zstd payload garbage", Block(ZstdBlockFormat.Zstd, 100, 8, [1, 2, 3, 4, 5, 6, 7, 8]) },
        { "cut inside the header", [ZstdBlockFormat.Stored, 0, 0] },
        { "cut inside the payload", Block(ZstdBlockFormat.Stored, 10, 10, [1, 2, 3]) },
        { "zstd frame of another length", ZstdOf(Text(1000), declaredLength: 999) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task ReadAsync_MalformedBlock_ThrowsInvalidData(string name, byte[] blocks)
    {
        var error = await Record.ExceptionAsync(() => ReadAllAsync(blocks));

        Assert.True(error is InvalidDataException, $"{name}: {error}");
    }

    [Fact]
    public async Task Open_AuthenticatedZstdEnvelopeWithMalformedBlock_ThrowsEnvelopeFormatException()
    {
        // A broken writer, not an attacker (the chunks authenticate): the block kind is unknown.
        using var kek = NewKek();
        var dataKey = new byte[EnvelopeFormat.DataKeySize];
        var header = EnvelopeHeader.Create(kek, new EnvelopeOptions { Compression = EnvelopeCompression.Zstd, ChunkSize = ChunkSize }, dataKey, null);
        using var output = new MemoryStream();
        output.Write(header.Bytes);
        await using (var sealer = new ChunkSealingStream(output, header, dataKey, null, leaveOpen: true))
        {
            await sealer.WriteAsync(Block(9, 4, 4, [1, 2, 3, 4]));
            await sealer.CompleteAsync();
        }

        var (_, error) = await OpenAsync(output.ToArray(), kek);

        Assert.IsType<EnvelopeFormatException>(error);
    }

    private static byte[] Block(byte kind, int plain, int payloadLength, byte[] payload)
    {
        var header = new byte[ZstdBlockFormat.HeaderSize];
        ZstdBlockFormat.WriteHeader(header, kind, plain, payloadLength);
        return [.. header, .. payload];
    }

    private static byte[] ZstdOf(byte[] plain, int declaredLength)
    {
        using var compressor = new ZstdSharp.Compressor(1);
        var payload = compressor.Wrap(plain).ToArray();
        return Block(ZstdBlockFormat.Zstd, declaredLength, payload.Length, payload);
    }

    private static byte[] Text(int length)
    {
        var text = new StringBuilder(length + 100);
        for (var i = 0; text.Length < length; i++)
        {
            text.Append("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-").Append(i).Append("\",\"namespace\":\"default\"}}\n");
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    private static async Task WriteInPiecesAsync(Stream stream, byte[] data, int piece)
    {
        for (var offset = 0; offset < data.Length; offset += piece)
        {
            await stream.WriteAsync(data.AsMemory(offset, Math.Min(piece, data.Length - offset)));
        }
    }

    private static async Task<byte[]> ReadAllAsync(byte[] blocks)
    {
        await using var reader = new ZstdBlockReadStream(new MemoryStream(blocks));
        using var copy = new MemoryStream();
        await reader.CopyToAsync(copy);
        return copy.ToArray();
    }

    private sealed class FailingStream : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("disk full"));
    }
}
