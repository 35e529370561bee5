using System.Security.Cryptography;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Agent.Tests.Restores;

/// <summary>The one-pass receiver gives the same two hashes as two separate SHA-256 passes, however the body is cut.</summary>
public sealed class SnapshotReceiverTests : IDisposable
{
    private readonly TempDirectory _temp = new("etcdsl-receiver");

    [Theory]
    [InlineData(0, 7)]
    [InlineData(10, 3)]
    [InlineData(32, 32)]
    [InlineData(33, 1)]
    [InlineData(512 + 32, 31)]
    [InlineData(8192 + 32, 33)]
    [InlineData(3 * 1024 * 1024 + 32, 100_000)]
    public async Task ReceiveAsync_AnyChunking_GivesTheWholeAndDatabaseHashesAndKeepsTheBytes(int size, int chunk)
    {
        var body = RandomNumberGenerator.GetBytes(size);
        var path = _temp.Combine($"staged-{size}-{chunk}");

        var received = await SnapshotReceiver.ReceiveAsync(new ChunkedStream(body, chunk), SnapshotReceiver.CreateStagingFile(path));

        Assert.Equal(size, received.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), received.Sha256);
        if (size >= 32)
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body.AsSpan(0, size - 32))), received.DbSha256);
        }

        Assert.False(received.TrailerValid);
        Assert.Equal(body, await File.ReadAllBytesAsync(path));
    }

    [Theory]
    [InlineData(512, 17)]
    [InlineData(4096, 4096)]
    public async Task ReceiveAsync_ADatabaseWithItsTrailer_IsValidAndOneFlippedByteIsNot(int databaseSize, int chunk)
    {
        var database = RandomNumberGenerator.GetBytes(databaseSize);
        var snapshot = database.Concat(SHA256.HashData(database)).ToArray();

        var good = await SnapshotReceiver.ReceiveAsync(new ChunkedStream(snapshot, chunk), SnapshotReceiver.CreateStagingFile(_temp.Combine($"good-{chunk}")));
        snapshot[databaseSize / 2] ^= 0x01;
        var bad = await SnapshotReceiver.ReceiveAsync(new ChunkedStream(snapshot, chunk), SnapshotReceiver.CreateStagingFile(_temp.Combine($"bad-{chunk}")));

        Assert.True(good.TrailerValid);
        Assert.False(bad.TrailerValid);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(snapshot)), bad.Sha256);
    }

    public void Dispose() => _temp.Dispose();

    /// <summary>Returns at most <c>chunk</c> bytes per read, as a network body does.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data, writable: false)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
