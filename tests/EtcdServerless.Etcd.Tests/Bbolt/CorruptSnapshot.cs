using System.Buffers.Binary;
using System.Security.Cryptography;

namespace EtcdServerless.Etcd.Tests;

/// <summary>Writes damaged copies of a real snapshot.</summary>
internal static class CorruptSnapshot
{
    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="target"/> after <paramref name="mutate"/> changed the
    /// database bytes; with <paramref name="refreshTrailer"/> the sha256 trailer is recomputed so the damage
    /// reaches the structural checks instead of stopping at the trailer.
    /// </summary>
    public static string Write(string source, string target, Action<byte[]> mutate, bool refreshTrailer = true)
    {
        var bytes = File.ReadAllBytes(source);
        var data = bytes[..^32];
        mutate(data);
        var trailer = refreshTrailer ? SHA256.HashData(data) : bytes[^32..];
        File.WriteAllBytes(target, [.. data, .. trailer]);
        return target;
    }

    public static void PutU64(byte[] data, long offset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan((int)offset), value);

    public static void PutU32(byte[] data, long offset, uint value) =>
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan((int)offset), value);

    public static void PutU16(byte[] data, long offset, ushort value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan((int)offset), value);

    public static ulong GetU64(byte[] data, long offset) =>
        BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan((int)offset));
}
