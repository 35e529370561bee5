using System.Security.Cryptography;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Etcd.Tests.Inspection;

public sealed class SnapshotTrailerTests
{
    [Theory]
    [InlineData(0, false)]
    [InlineData(31, false)]
    [InlineData(32, true)]
    [InlineData(512, false)]
    [InlineData(544, true)]
    [InlineData(20480, false)]
    [InlineData(20512, true)]
    [InlineData(20513, false)]
    public void HasTrailer_Length_FollowsEtcdsModuloRule(long length, bool expected)
    {
        Assert.Equal(expected, SnapshotTrailer.HasTrailer(length));
    }

    [Fact]
    public async Task VerifyAsync_CorrectTrailer_Passes()
    {
        using var dir = new TempDirectory();
        var path = WriteSnapshotLike(dir, 3 * 1024 * 1024 + 512, corrupt: false);

        await SnapshotTrailer.VerifyAsync(path);
        await using var stream = File.OpenRead(path);
        await SnapshotTrailer.VerifyAsync(stream);
    }

    [Fact]
    public async Task VerifyAsync_WrongTrailer_ThrowsInvalidData()
    {
        using var dir = new TempDirectory();
        var path = WriteSnapshotLike(dir, 4096, corrupt: true);

        var fromPath = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotTrailer.VerifyAsync(path));
        await using var stream = File.OpenRead(path);
        var fromStream = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotTrailer.VerifyAsync(stream));

        Assert.Contains("snapshot sha256 trailer mismatch", fromPath.Message, StringComparison.Ordinal);
        Assert.Contains("snapshot sha256 trailer mismatch", fromStream.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_ShorterThanTrailer_ThrowsEndOfStream()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("short.db");
        await File.WriteAllBytesAsync(path, new byte[31]);

        await Assert.ThrowsAsync<EndOfStreamException>(() => SnapshotTrailer.VerifyAsync(path));
        await using var stream = File.OpenRead(path);
        await Assert.ThrowsAsync<EndOfStreamException>(() => SnapshotTrailer.VerifyAsync(stream));
    }

    private static string WriteSnapshotLike(TempDirectory dir, int dataLength, bool corrupt)
    {
        var data = new byte[dataLength];
        new Random(dataLength).NextBytes(data);
        var sha = SHA256.HashData(data);
        if (corrupt)
        {
            sha[5] ^= 0x10;
        }

        var path = dir.Combine("snap.db");
        File.WriteAllBytes(path, [.. data, .. sha]);
        return path;
    }
}
