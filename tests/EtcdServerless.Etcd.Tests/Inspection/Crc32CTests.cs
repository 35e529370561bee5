using System.Runtime.Intrinsics.X86;
using System.Text;
using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Etcd.Tests.Inspection;

public sealed class Crc32CTests
{
    public static TheoryData<string, uint> Vectors => new()
    {
        { "", 0x00000000u },
        { "a", 0xC1D04330u },
        { "123456789", 0xE3069283u },
        { "The quick brown fox jumps over the lazy dog", 0x22620404u },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Compute_TextVectors_Match(string text, uint expected)
    {
        var data = Encoding.ASCII.GetBytes(text);

        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, ~Crc32C.UpdateSoftware(0xFFFFFFFFu, data));
    }

    [Theory]
    [InlineData(0x00, 0x8A9136AAu)]
    [InlineData(0xFF, 0x62A8AB43u)]
    public void Compute_Rfc3720Vectors_Match(byte fill, uint expected)
    {
        var data = Enumerable.Repeat(fill, 32).ToArray();

        Assert.Equal(expected, Crc32C.Compute(data));
    }

    [Fact]
    public void Compute_Rfc3720Incrementing_Matches()
    {
        var ascending = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var descending = Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray();

        Assert.Equal(0x46DD794Eu, Crc32C.Compute(ascending));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(descending));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(31)]
    [InlineData(4096)]
    [InlineData(100_003)]
    public void Update_SplitAnywhere_EqualsOneShotOnEveryImplementation(int length)
    {
        var random = new Random(length);
        var data = new byte[length];
        random.NextBytes(data);
        var split = random.Next(length + 1);
        var expected = ~Crc32C.UpdateSoftware(0xFFFFFFFFu, data);

        Assert.Equal(expected, ~Crc32C.Update(Crc32C.Update(0xFFFFFFFFu, data.AsSpan(0, split)), data.AsSpan(split)));
        if (Sse42.IsSupported)
        {
            Assert.Equal(expected, ~Crc32C.UpdateHardware32(0xFFFFFFFFu, data));
        }

        if (Sse42.X64.IsSupported)
        {
            Assert.Equal(expected, ~Crc32C.UpdateHardware64(0xFFFFFFFFu, data));
        }
    }
}
