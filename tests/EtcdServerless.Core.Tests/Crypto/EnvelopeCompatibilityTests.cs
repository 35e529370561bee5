using System.Text;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using static EtcdServerless.Core.Tests.Crypto.EnvelopeTestHelpers;

namespace EtcdServerless.Core.Tests.Crypto;

/// <summary>
/// Artifacts in Crypto/Fixtures were sealed by the envelope code as it was before zstd became the default
/// (commit 40d62a5: Brotli and gzip with identity, format 2; uncompressed, format 1), with a fixed test KEK. Backups
/// written that way are in users' stores, so they must open, byte for byte, with today's reader.
/// </summary>
public sealed class EnvelopeCompatibilityTests
{
    [Theory]
    [InlineData("brotli-v2.snap.enc", (byte)EnvelopeCompression.Brotli, 2)]
    [InlineData("gzip-v2.snap.enc", (byte)EnvelopeCompression.Gzip, 2)]
    [InlineData("none-v1.snap.enc", (byte)EnvelopeCompression.None, 1)]
    public async Task Open_ArtifactSealedBeforeZstd_ReturnsOriginalPlaintext(string fixture, byte compression, int formatVersion)
    {
        var artifact = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Crypto", "Fixtures", fixture));
        using var kek = FixtureKek();

        await using var reader = await EnvelopeReadStream.OpenAsync(new MemoryStream(artifact), Resolver(kek));
        using var plaintext = new MemoryStream();
        await reader.CopyToAsync(plaintext);

        Assert.Equal((EnvelopeCompression)compression, reader.Header.Compression);
        Assert.Equal(formatVersion, reader.Header.FormatVersion);
        Assert.Equal(FixturePlaintext(), plaintext.ToArray());
    }

    [Fact]
    public async Task Open_OldBrotliArtifactWithOneBodyByteFlipped_FailsAuthentication()
    {
        var artifact = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Crypto", "Fixtures", "brotli-v2.snap.enc"));
        artifact[^20] ^= 0x01;
        using var kek = FixtureKek();

        var (_, error) = await OpenAsync(artifact, kek);

        Assert.IsType<EnvelopeChunkAuthenticationException>(error);
    }

    private static KeyEncryptionKey FixtureKek() =>
        new("compat-kek", "1", Enumerable.Range(0, KeyEncryptionKey.KeySizeBytes).Select(i => (byte)i).ToArray());

    // What the fixtures were sealed from.
    private static byte[] FixturePlaintext()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 600; i++)
        {
            text.Append("line ").Append(i).Append(": /registry/pods/default/pod-").Append(i).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
