using System.Text;
using EtcdServerless.Etcd.Bbolt;

namespace EtcdServerless.Etcd.Tests.Bbolt;

public sealed class Fnv1a64Tests
{
    [Theory]
    [InlineData("", 0xcbf29ce484222325UL)]
    [InlineData("a", 0xaf63dc4c8601ec8cUL)]
    [InlineData("foobar", 0x85944171f73967e8UL)]
    public void Compute_KnownVectors_Match(string text, ulong expected)
    {
        Assert.Equal(expected, Fnv1a64.Compute(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Compute_ObservedEtcdMeta_MatchesStoredChecksum()
    {
        // Meta 0 of a 3.4.23 snapshot: magic..txid (56 bytes) and its stored checksum.
        var meta = Convert.FromHexString(
            "edda0ced" + "02000000" + "00100000" + "00000000" + "0200000000000000" + "0000000000000000"
            + "ffffffffffffffff" + "0500000000000000" + "0800000000000000");

        Assert.Equal(0xb730a38a98327d0cUL, Fnv1a64.Compute(meta));
    }
}
