using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Testing.Infrastructure;
using static EtcdServerless.Core.Tests.Crypto.EnvelopeTestHelpers;

namespace EtcdServerless.Core.Tests.Crypto;

/// <summary>Every manipulation fails with a specific error, and nothing but authenticated chunks is ever yielded.</summary>
public sealed class EnvelopeTamperTests : IDisposable
{
    private const int ChunkOnDisk = ChunkSize + EnvelopeFormat.TagSize;
    private readonly KeyEncryptionKey _kek = NewKek();
    private readonly byte[] _plaintext = Plaintext((3 * ChunkSize) + 100);

    public void Dispose() => _kek.Dispose();

    private Task<byte[]> SealedAsync() => SealAsync(_plaintext, _kek);

    private static int ChunkOffset(byte[] artifact, int index) => HeaderLength(artifact) + (index * ChunkOnDisk);

    /// <summary>What was yielded is an authenticated prefix: at most <paramref name="chunks"/> whole chunks of the plaintext.</summary>
    private void AssertYieldedAtMost(byte[] yielded, int chunks)
    {
        Assert.True(yielded.Length <= chunks * ChunkSize, $"yielded {yielded.Length} bytes, more than {chunks} authenticated chunks");
        Assert.Equal(_plaintext.AsSpan(0, yielded.Length).ToArray(), yielded);
    }

    [Fact]
    public async Task Open_AnyHeaderByteFlipped_FailsWithoutPlaintext()
    {
        var artifact = await SealedAsync();
        for (var i = 0; i < HeaderLength(artifact); i++)
        {
            var copy = (byte[])artifact.Clone();
            copy[i] ^= 0x01;

            var (yielded, error) = await OpenAsync(copy, _kek);

            Assert.True(error is EnvelopeException, $"byte {i}: {error?.GetType().Name ?? "no error"}");
            Assert.Empty(yielded);
        }
    }

    [Theory]
    [InlineData(0, typeof(EnvelopeFormatException))]
    [InlineData(9, typeof(EnvelopeFormatException))]
    [InlineData(20, typeof(EnvelopeHeaderTamperedException))]
    [InlineData(27, typeof(EnvelopeWrongKeyException))]
    [InlineData(-20, typeof(EnvelopeHeaderTamperedException))]
    [InlineData(-1, typeof(EnvelopeHeaderTamperedException))]
    public async Task Open_HeaderFieldFlipped_ThrowsSpecificError(int offset, Type expected)
    {
        var artifact = await SealedAsync();
        var position = offset >= 0 ? offset : HeaderLength(artifact) + offset;
        artifact[position] ^= 0x80;

        var (yielded, error) = await OpenAsync(artifact, _kek);

        Assert.IsType(expected, error);
        Assert.Empty(yielded);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 100)]
    [InlineData(2, ChunkSize - 1)]
    [InlineData(3, 50)]
    public async Task Open_CiphertextBitFlipped_ReportsChunk(int chunk, int byteInChunk)
    {
        var artifact = await SealedAsync();
        artifact[ChunkOffset(artifact, chunk) + byteInChunk] ^= 0x04;

        var (yielded, error) = await OpenAsync(artifact, _kek);

        var ex = Assert.IsType<EnvelopeChunkAuthenticationException>(error);
        Assert.Equal(chunk, ex.ChunkIndex);
        Assert.Contains($"chunk {chunk} failed authentication", ex.Message, StringComparison.Ordinal);
        AssertYieldedAtMost(yielded, chunk);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task Open_TagBitFlipped_ReportsChunk(int chunk)
    {
        var artifact = await SealedAsync();
        artifact[ChunkOffset(artifact, chunk) + ChunkSize + 3] ^= 0x10;

        var (yielded, error) = await OpenAsync(artifact, _kek);

        Assert.Equal(chunk, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        AssertYieldedAtMost(yielded, chunk);
    }

    [Fact]
    public async Task Open_FinalTagFlipped_ReportsFinalChunk()
    {
        var artifact = await SealedAsync();
        artifact[^1] ^= 0x01;

        var (yielded, error) = await OpenAsync(artifact, _kek);

        Assert.Equal(3, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        AssertYieldedAtMost(yielded, 3);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Open_TruncatedAtChunkBoundary_ReportsTruncation(int wholeChunks)
    {
        var artifact = await SealedAsync();
        var truncated = artifact[..ChunkOffset(artifact, wholeChunks)];

        var (yielded, error) = await OpenAsync(truncated, _kek);

        var ex = Assert.IsType<EnvelopeTruncatedException>(error);
        Assert.Equal(wholeChunks, ex.ChunksRead);
        Assert.Contains("truncated after", ex.Message, StringComparison.Ordinal);
        AssertYieldedAtMost(yielded, wholeChunks);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(EnvelopeFormat.TagSize)]
    [InlineData(ChunkSize)]
    public async Task Open_TruncatedMidChunk_FailsAuthentication(int bytesOfChunk)
    {
        var artifact = await SealedAsync();
        var truncated = artifact[..(ChunkOffset(artifact, 1) + bytesOfChunk)];

        var (yielded, error) = await OpenAsync(truncated, _kek);

        Assert.Equal(1, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        AssertYieldedAtMost(yielded, 1);
    }

    [Fact]
    public async Task Open_TruncatedInsideHeader_ReportsFormatError()
    {
        var artifact = await SealedAsync();

        var (yielded, error) = await OpenAsync(artifact[..20], _kek);

        Assert.IsType<EnvelopeFormatException>(error);
        Assert.Empty(yielded);
    }

    [Fact]
    public async Task Open_ChunksSwapped_ReportsFirstSwappedChunk()
    {
        var artifact = await SealedAsync();
        var swapped = (byte[])artifact.Clone();
        artifact.AsSpan(ChunkOffset(artifact, 1), ChunkOnDisk).CopyTo(swapped.AsSpan(ChunkOffset(artifact, 0)));
        artifact.AsSpan(ChunkOffset(artifact, 0), ChunkOnDisk).CopyTo(swapped.AsSpan(ChunkOffset(artifact, 1)));

        var (yielded, error) = await OpenAsync(swapped, _kek);

        Assert.Equal(0, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        Assert.Empty(yielded);
    }

    [Fact]
    public async Task Open_ChunkDuplicated_ReportsChunk()
    {
        var artifact = await SealedAsync();
        var duplicated = (byte[])artifact.Clone();
        artifact.AsSpan(ChunkOffset(artifact, 0), ChunkOnDisk).CopyTo(duplicated.AsSpan(ChunkOffset(artifact, 1)));

        var (yielded, error) = await OpenAsync(duplicated, _kek);

        Assert.Equal(1, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        AssertYieldedAtMost(yielded, 1);
    }

    [Fact]
    public async Task Open_ChunkSplicedFromAnotherArtifactWithSameKek_ReportsChunk()
    {
        var artifact = await SealedAsync();
        var other = await SealAsync(_plaintext, _kek);
        other.AsSpan(ChunkOffset(other, 2), ChunkOnDisk).CopyTo(artifact.AsSpan(ChunkOffset(artifact, 2)));

        var (yielded, error) = await OpenAsync(artifact, _kek);

        Assert.Equal(2, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        AssertYieldedAtMost(yielded, 2);
    }

    [Fact]
    public async Task Open_ChunkAppendedAfterFullFinalChunk_ReportsDataAfterFinal()
    {
        var plaintext = Plaintext(2 * ChunkSize);
        var artifact = await SealAsync(plaintext, _kek);
        var appended = artifact.Concat(artifact.AsSpan(ChunkOffset(artifact, 0), ChunkOnDisk).ToArray()).ToArray();

        var (yielded, error) = await OpenAsync(appended, _kek);

        var ex = Assert.IsType<EnvelopeTrailingDataException>(error);
        Assert.Contains("data after final chunk", ex.Message, StringComparison.Ordinal);
        Assert.True(yielded.Length <= ChunkSize);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(ChunkOnDisk)]
    public async Task Open_BytesAppendedAfterShortFinalChunk_Fails(int extra)
    {
        var artifact = await SealedAsync();
        var appended = artifact.Concat(new byte[extra]).ToArray();

        var (yielded, error) = await OpenAsync(appended, _kek);

        Assert.Equal(3, Assert.IsType<EnvelopeChunkAuthenticationException>(error).ChunkIndex);
        AssertYieldedAtMost(yielded, 3);
    }

    [Fact]
    public async Task Open_WrongKek_ReportsWrongKey()
    {
        var artifact = await SealedAsync();
        using var impostor = NewKek();

        var (yielded, error) = await OpenAsync(artifact, impostor);

        var ex = Assert.IsType<EnvelopeWrongKeyException>(error);
        Assert.Contains("wrong key-encryption key", ex.Message, StringComparison.Ordinal);
        Assert.Empty(yielded);
    }

    [Fact]
    public async Task Open_KekVersionMissingFromStore_ReportsKeyNotFound()
    {
        using var dir = new TempDirectory("h3-keys");
        var store = new LocalKeyStore(dir.Path, "test-kek");
        using var v1 = await store.InitializeAsync();
        var artifact = await SealAsync(_plaintext, NewKek("7"));

        var ex = await Assert.ThrowsAsync<EnvelopeKeyNotFoundException>(() =>
            EnvelopeReadStream.OpenAsync(new MemoryStream(artifact), store));

        Assert.Contains("KEK version test-kek/7 not found", ex.Message, StringComparison.Ordinal);
        Assert.IsType<KeyNotFoundException>(ex.InnerException);
    }

    [Fact]
    public async Task Open_ArtifactOfAnotherKekVersion_OpensWithOldVersionAfterRotation()
    {
        using var dir = new TempDirectory("h3-keys");
        var store = new LocalKeyStore(dir.Path);
        using var v1 = await store.InitializeAsync();
        var artifact = await SealAsync(_plaintext, v1);
        using var v2 = await store.RotateAsync();

        await using var reader = await EnvelopeReadStream.OpenAsync(new MemoryStream(artifact), store);
        using var output = new MemoryStream();
        await reader.CopyToAsync(output);

        Assert.Equal(_plaintext, output.ToArray());
    }

    [Fact]
    public async Task Open_NotAnEnvelope_ReportsBadMagic()
    {
        var (_, error) = await OpenAsync(Plaintext(1000), _kek);

        Assert.Contains("bad magic", Assert.IsType<EnvelopeFormatException>(error).Message, StringComparison.Ordinal);
    }
}
