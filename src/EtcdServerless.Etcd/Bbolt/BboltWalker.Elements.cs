using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace EtcdServerless.Etcd.Bbolt;

// Decoding of a page's elements, each bounds-checked against the page span so a defect names its page.
internal sealed partial class BboltWalker
{
    private static int ElementCount(ReadOnlySpan<byte> page, ulong pageId)
    {
        int count = BinaryPrimitives.ReadUInt16LittleEndian(page[10..]);
        if (BboltFormat.PageHeaderSize + ((long)count * BboltFormat.ElementSize) > page.Length)
        {
            throw new InvalidDataException(
                $"page {pageId}: {count} elements do not fit the page span ({page.Length} bytes)");
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint LeafElement(ReadOnlySpan<byte> page, int index, ulong pageId, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var element = BboltFormat.PageHeaderSize + (index * BboltFormat.ElementSize);
        var header = page.Slice(element, BboltFormat.ElementSize);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var pos = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        var keySize = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        var valueSize = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        var keyStart = (ulong)element + pos;
        if (keyStart + keySize + valueSize > (ulong)page.Length)
        {
            throw new InvalidDataException(
                $"page {pageId}: leaf element {index} (pos {pos}, key {keySize} bytes, value {valueSize} bytes) runs past the page span ({page.Length} bytes)");
        }

        key = page.Slice((int)keyStart, (int)keySize);
        value = page.Slice((int)(keyStart + keySize), (int)valueSize);
        return flags;
    }

    private static ulong BucketRoot(ReadOnlySpan<byte> value, ulong pageId, int index)
    {
        if (value.Length < BboltFormat.BucketHeaderSize)
        {
            throw new InvalidDataException(
                $"page {pageId}: bucket element {index} value is {value.Length} bytes, shorter than a bucket header");
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(value);
    }

    private static string Printable(ReadOnlySpan<byte> key)
    {
        var text = System.Text.Encoding.Latin1.GetString(key[..Math.Min(key.Length, 64)]);
        return string.Concat(text.Select(c => c is >= ' ' and < (char)0x7F ? c.ToString() : $"\\x{(int)c:x2}"));
    }
}
