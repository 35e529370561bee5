using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace EtcdServerless.Etcd.Inspection;

/// <summary>
/// CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF), the checksum etcd's
/// <c>snapshot status</c> hash and WAL records use. Hardware CRC32 instructions when the CPU has them,
/// slicing-by-8 tables otherwise; both produce identical results.
/// </summary>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;

    private static readonly uint[] s_table = BuildTable();

    /// <summary>The CRC of <paramref name="data"/> alone.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    /// <summary>
    /// Folds <paramref name="data"/> into a running, non-finalized register (start with 0xFFFFFFFF, finish
    /// with bitwise not). Feeding several spans one after the other equals feeding their concatenation.
    /// </summary>
    public static uint Update(uint register, ReadOnlySpan<byte> data) =>
        Sse42.X64.IsSupported ? UpdateHardware64(register, data)
        : Sse42.IsSupported ? UpdateHardware32(register, data)
        : UpdateSoftware(register, data);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static uint UpdateHardware64(uint register, ReadOnlySpan<byte> data)
    {
        ulong crc = register;
        while (data.Length >= 32)
        {
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[8..]));
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[16..]));
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[24..]));
            data = data[32..];
        }

        while (data.Length >= 8)
        {
            crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        var result = (uint)crc;
        foreach (var b in data)
        {
            result = Sse42.Crc32(result, b);
        }

        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static uint UpdateHardware32(uint register, ReadOnlySpan<byte> data)
    {
        var crc = register;
        while (data.Length >= 4)
        {
            crc = Sse42.Crc32(crc, BinaryPrimitives.ReadUInt32LittleEndian(data));
            data = data[4..];
        }

        foreach (var b in data)
        {
            crc = Sse42.Crc32(crc, b);
        }

        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static uint UpdateSoftware(uint register, ReadOnlySpan<byte> data)
    {
        var table = s_table.AsSpan();
        var crc = register;
        while (data.Length >= 8)
        {
            var low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            var high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = table[(7 * 256) + (int)(low & 0xFF)]
                ^ table[(6 * 256) + (int)((low >> 8) & 0xFF)]
                ^ table[(5 * 256) + (int)((low >> 16) & 0xFF)]
                ^ table[(4 * 256) + (int)(low >> 24)]
                ^ table[(3 * 256) + (int)(high & 0xFF)]
                ^ table[(2 * 256) + (int)((high >> 8) & 0xFF)]
                ^ table[256 + (int)((high >> 16) & 0xFF)]
                ^ table[(int)(high >> 24)];
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = table[(int)((crc ^ b) & 0xFF)] ^ (crc >> 8);
        }

        return crc;
    }

    // Table k holds the CRC of a byte followed by k zero bytes, which lets eight bytes be folded at once.
    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var crc = i;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }

            table[i] = crc;
        }

        for (var slice = 1; slice < 8; slice++)
        {
            for (var i = 0; i < 256; i++)
            {
                var previous = table[((slice - 1) * 256) + i];
                table[(slice * 256) + i] = table[(int)(previous & 0xFF)] ^ (previous >> 8);
            }
        }

        return table;
    }
}
