using System.Security.Cryptography;
using EtcdServerless.Core.IO;

namespace EtcdServerless.Core.Tests.IO;

public sealed class BroadcastStreamsTests
{
    // Readers copied with CopyToAsync (as StreamContent does: chunks written straight through) or read in 100-byte pieces.
    [Theory]
    [InlineData(0, false)]
    [InlineData(1023, false)]
    [InlineData(1024, false)]
    [InlineData(1025, false)]
    [InlineData(10 * 1024 + 7, false)]
    [InlineData(1023, true)]
    [InlineData(1024, true)]
    [InlineData(1025, true)]
    [InlineData(10 * 1024 + 7, true)]
    public async Task PumpAsync_EveryReader_GetsTheWholeSourceOnce(int size, bool smallPieces)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        var broadcast = new BroadcastStreams(3, chunkSize: 1024, depth: 2);

        var readers = broadcast.Readers.Select(r => smallPieces ? ReadInPiecesAsync(r, 100) : ReadAllAsync(r)).ToArray();
        await broadcast.PumpAsync(new MemoryStream(data));
        var copies = await Task.WhenAll(readers);

        Assert.All(copies, c => Assert.Equal(data, c));
    }

    [Fact]
    public async Task PumpAsync_ManyChunks_ReusesAFewArrays()
    {
        // 200 chunks through readers of both kinds: the arrays come back once every reader passed them on.
        var data = RandomNumberGenerator.GetBytes(200 * 1024);
        var broadcast = new BroadcastStreams(3, chunkSize: 1024, depth: 2);

        var readers = new[] { ReadAllAsync(broadcast.Readers[0]), ReadInPiecesAsync(broadcast.Readers[1], 300), ReadAllAsync(broadcast.Readers[2]) };
        await broadcast.PumpAsync(new MemoryStream(data));
        var copies = await Task.WhenAll(readers);

        Assert.All(copies, c => Assert.Equal(data, c));
        Assert.InRange(broadcast.AllocatedChunks, 1, 8);
    }

    [Fact]
    public async Task PumpAsync_ADroppedReader_DoesNotStallTheOthers()
    {
        var data = RandomNumberGenerator.GetBytes(64 * 1024);
        var broadcast = new BroadcastStreams(2, chunkSize: 1024, depth: 1);

        // Reader 1 never reads: without dropping it the pump would block on its full queue forever.
        var healthy = ReadAllAsync(broadcast.Readers[0]);
        var pump = broadcast.PumpAsync(new MemoryStream(data));
        await Task.Delay(50);
        broadcast.Drop(1);
        await pump.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(data, await healthy);
        await Assert.ThrowsAsync<IOException>(() => ReadAllAsync(broadcast.Readers[1]));
    }

    [Fact]
    public async Task PumpAsync_SourceFails_EveryReaderFailsWithTheSourceError()
    {
        var broadcast = new BroadcastStreams(2, chunkSize: 1024);
        var readers = broadcast.Readers.Select(ReadAllAsync).ToArray();

        await Assert.ThrowsAsync<InvalidDataException>(() => broadcast.PumpAsync(new FailingStream()));

        foreach (var reader in readers)
        {
            await Assert.ThrowsAsync<InvalidDataException>(() => reader);
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async Task<byte[]> ReadInPiecesAsync(Stream stream, int piece)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[piece];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    private sealed class FailingStream : MemoryStream
    {
        public FailingStream()
            : base(new byte[4096])
        {
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position >= 2048 ? throw new InvalidDataException("chunk 2 failed authentication") : base.ReadAsync(buffer[..Math.Min(buffer.Length, 1024)], cancellationToken);
    }
}
