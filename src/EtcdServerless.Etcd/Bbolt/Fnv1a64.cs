namespace EtcdServerless.Etcd.Bbolt;

/// <summary>64-bit FNV-1a, the checksum bbolt stores in each meta page.</summary>
internal static class Fnv1a64
{
    private const ulong OffsetBasis = 0xCBF29CE484222325UL;
    private const ulong Prime = 0x100000001B3UL;

    public static ulong Compute(ReadOnlySpan<byte> data)
    {
        var hash = OffsetBasis;
        foreach (var b in data)
        {
            hash = (hash ^ b) * Prime;
        }

        return hash;
    }
}
