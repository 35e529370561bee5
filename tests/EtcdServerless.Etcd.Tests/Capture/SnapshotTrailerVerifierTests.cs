using System.Security.Cryptography;
using EtcdServerless.Etcd.Capture;

namespace EtcdServerless.Etcd.Tests.Capture;

public sealed class SnapshotTrailerVerifierTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(4096)]
    [InlineData(100_000)]
    public void Complete_ValidStreamAnyChunking_ReturnsDbSizeAndSha(int chunkSize)
    {
        var (stream, sha) = Craft(4096 * 3);

        using var verifier = new SnapshotTrailerVerifier();
        for (var i = 0; i < stream.Length; i += chunkSize)
        {
            verifier.Append(stream.AsSpan(i, Math.Min(chunkSize, stream.Length - i)));
        }

        var digest = verifier.Complete();
        Assert.Equal(4096 * 3, digest.DbSize);
        Assert.Equal(stream.Length, digest.FileSize);
        Assert.Equal(sha, digest.Sha256);
        Assert.Equal(Convert.ToHexStringLower(sha), digest.Sha256Hex);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5000)]
    [InlineData(4096 * 2 - 1)]
    [InlineData(4096 * 2)]
    [InlineData(4096 * 2 + 31)]
    public void Complete_OneByteFlipped_ThrowsInvalidData(int offset)
    {
        var (stream, _) = Craft(4096 * 2);
        stream[offset] ^= 0x01;

        using var verifier = new SnapshotTrailerVerifier();
        verifier.Append(stream);

        var ex = Assert.Throws<InvalidDataException>(verifier.Complete);
        Assert.Contains("sha256 trailer mismatch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_TruncatedStream_ThrowsInvalidData()
    {
        var (stream, _) = Craft(4096 * 2);

        using var verifier = new SnapshotTrailerVerifier();
        verifier.Append(stream.AsSpan(0, stream.Length - 100));

        Assert.Throws<InvalidDataException>(verifier.Complete);
    }

    [Fact]
    public void Complete_MissingTrailer_ThrowsInvalidData()
    {
        var (stream, _) = Craft(4096 * 2);

        using var verifier = new SnapshotTrailerVerifier();
        verifier.Append(stream.AsSpan(0, 4096 * 2));

        Assert.Throws<InvalidDataException>(verifier.Complete);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(32)]
    public void Complete_TooShort_ThrowsInvalidData(int length)
    {
        using var verifier = new SnapshotTrailerVerifier();
        verifier.Append(new byte[length]);

        Assert.Throws<InvalidDataException>(verifier.Complete);
    }

    [Fact]
    public async Task VerifyAsync_CraftedStream_MatchesAndRejectsBadTrailer()
    {
        var (good, sha) = Craft(512 * 5);
        var bad = (byte[])good.Clone();
        bad[^1] ^= 0x80;

        var digest = await SnapshotTrailerVerifier.VerifyAsync(new MemoryStream(good));

        Assert.Equal(sha, digest.Sha256);
        await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotTrailerVerifier.VerifyAsync(new MemoryStream(bad)));
    }

    private static (byte[] Stream, byte[] Sha) Craft(int dbSize)
    {
        var db = new byte[dbSize];
        new Random(dbSize).NextBytes(db);
        var sha = SHA256.HashData(db);
        return ([.. db, .. sha], sha);
    }
}
