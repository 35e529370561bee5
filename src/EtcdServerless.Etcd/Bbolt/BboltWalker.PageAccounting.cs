using System.Buffers.Binary;

namespace EtcdServerless.Etcd.Bbolt;

// Page accounting, bbolt's tx.Check() bookkeeping: every page is reached once, never both reachable and free,
// and, when the freelist is stored, every page below the high-water mark is one or the other.
internal sealed partial class BboltWalker
{
    private void Mark(ulong pageId, uint overflow)
    {
        for (var id = pageId; id <= pageId + overflow; id++)
        {
            ref var word = ref _reachable[(int)(id >> 6)];
            var bit = 1UL << (int)(id & 63);
            if ((word & bit) != 0)
            {
                throw new InvalidDataException($"page {id}: multiple references (reached again from page {pageId})");
            }

            if (_free is not null && (_free[(int)(id >> 6)] & bit) != 0)
            {
                throw new InvalidDataException($"page {id}: reachable freed");
            }

            word |= bit;
        }
    }

    private void ReadFreelist()
    {
        var freelistId = _file.Meta.Freelist;
        var page = _file.ReadPage(freelistId, out var flags);
        if (flags != BboltFormat.FreelistPageFlag)
        {
            throw new InvalidDataException(
                $"page {freelistId}: meta names it the freelist but its type is {BboltFormat.DescribeFlags(flags)}");
        }

        long count = BinaryPrimitives.ReadUInt16LittleEndian(page[10..]);
        var start = BboltFormat.PageHeaderSize;
        if (count == BboltFormat.FreelistCountOverflow)
        {
            var extended = BinaryPrimitives.ReadUInt64LittleEndian(page[start..]);
            count = extended > (ulong)page.Length ? long.MaxValue : (long)extended;
            start += 8;
        }

        if (count > (page.Length - start) / 8)
        {
            throw new InvalidDataException(
                $"page {freelistId}: freelist count {count} does not fit the page span ({page.Length} bytes)");
        }

        var free = _free!;
        for (var i = 0; i < count; i++)
        {
            var id = BinaryPrimitives.ReadUInt64LittleEndian(page[(start + (i * 8))..]);
            if (id < 2 || id >= _file.Meta.PageCount)
            {
                throw new InvalidDataException(
                    $"page {freelistId}: freelist entry {i} names page {id}, outside [2, {_file.Meta.PageCount})");
            }

            var bit = 1UL << (int)(id & 63);
            if ((free[(int)(id >> 6)] & bit) != 0)
            {
                throw new InvalidDataException($"page {id}: already freed (freelist page {freelistId})");
            }

            free[(int)(id >> 6)] |= bit;
        }

        Mark(freelistId, (uint)(page.Length / _file.PageSize) - 1);
    }

    private void CheckEveryPageAccountedFor(ulong[] free)
    {
        var pageCount = _file.Meta.PageCount;
        for (var w = 0; w < _reachable.Length; w++)
        {
            var missing = ~(_reachable[w] | free[w]);
            while (missing != 0)
            {
                var id = ((ulong)w << 6) + (ulong)System.Numerics.BitOperations.TrailingZeroCount(missing);
                if (id >= pageCount)
                {
                    return;
                }

                throw new InvalidDataException($"page {id}: unreachable unfreed");
            }
        }
    }
}
