using System.Buffers.Binary;
using System.Text;
using EtcdServerless.Etcd.Bbolt;
using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Etcd.Tests;

/// <summary>
/// Test-side map of a snapshot's reachable pages, found by parsing (so corruption tests never hard-code
/// offsets that move when etcd's layout changes).
/// </summary>
internal sealed class PageMap
{
    public required int PageSize { get; init; }

    public required ulong PageCount { get; init; }

    public required ulong Root { get; init; }

    public required long DataLength { get; init; }

    public List<PageInfo> Pages { get; } = [];

    public List<string> InlineBuckets { get; } = [];

    public static PageMap Build(string path)
    {
        using var handle = File.OpenHandle(path);
        var length = RandomAccess.GetLength(handle);
        var dataLength = SnapshotTrailer.HasTrailer(length) ? length - SnapshotTrailer.Size : length;
        using var file = BboltFile.Open(handle, dataLength);
        var map = new PageMap { PageSize = file.PageSize, PageCount = file.Meta.PageCount, Root = file.Meta.Root, DataLength = dataLength };
        map.Visit(file, file.Meta.Root, isRootTree: true);
        return map;
    }

    public PageInfo First(Func<PageInfo, bool> predicate) =>
        Pages.FirstOrDefault(predicate) ?? throw new InvalidOperationException("the snapshot has no such page");

    private void Visit(BboltFile file, ulong id, bool isRootTree)
    {
        var page = file.ReadPage(id, out var flags).ToArray();
        var count = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(10));
        var overflow = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(12));
        Pages.Add(new PageInfo(id, flags, count, overflow, isRootTree, (long)id * file.PageSize));
        for (var i = 0; i < count; i++)
        {
            var element = 16 + (i * 16);
            if (flags == BboltFormat.BranchPageFlag)
            {
                Visit(file, BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(element + 8)), isRootTree);
                continue;
            }

            var elementFlags = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(element));
            var pos = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(element + 4));
            var keySize = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(element + 8));
            if (isRootTree && (elementFlags & 1) != 0)
            {
                var key = Encoding.ASCII.GetString(page, (int)(element + pos), (int)keySize);
                var bucketRoot = BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan((int)(element + pos + keySize)));
                if (bucketRoot == 0)
                {
                    InlineBuckets.Add(key);
                }
                else
                {
                    Visit(file, bucketRoot, isRootTree: false);
                }
            }
        }
    }
}

internal sealed record PageInfo(ulong Id, ushort Flags, int Count, uint Overflow, bool InRootTree, long Offset)
{
    public bool IsBranch => Flags == BboltFormat.BranchPageFlag;

    public bool IsLeaf => Flags == BboltFormat.LeafPageFlag;
}
