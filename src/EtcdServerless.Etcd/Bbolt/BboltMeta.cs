using System.Buffers.Binary;

namespace EtcdServerless.Etcd.Bbolt;

/// <summary>The fields of a bbolt meta page that a reader needs.</summary>
/// <param name="PageSize">Bytes per page.</param>
/// <param name="Root">Page id of the root bucket's tree.</param>
/// <param name="Freelist">Page id of the freelist, or <see cref="BboltFormat.NoFreelist"/>.</param>
/// <param name="PageCount">High-water mark: pages in use; the database is PageCount * PageSize bytes.</param>
/// <param name="TransactionId">Transaction id; the valid meta with the higher one is current.</param>
internal readonly record struct BboltMeta(int PageSize, ulong Root, ulong Freelist, ulong PageCount, ulong TransactionId)
{
    /// <summary>Database size in bytes, as bbolt's <c>tx.Size()</c>.</summary>
    public long Size => checked((long)PageCount * PageSize);

    /// <summary>
    /// Parses and validates the meta page at the start of <paramref name="page"/> (header included). Returns
    /// null with a reason when the magic, version, checksum, page header or fields are wrong.
    /// </summary>
    public static BboltMeta? TryParse(ReadOnlySpan<byte> page, ulong expectedPageId, out string? reason)
    {
        if (page.Length < BboltFormat.MetaOffset + BboltFormat.MetaSize)
        {
            reason = "meta page is cut short";
            return null;
        }

        var meta = page.Slice(BboltFormat.MetaOffset, BboltFormat.MetaSize);
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(meta);
        var version = BinaryPrimitives.ReadUInt32LittleEndian(meta[4..]);
        var pageSize = BinaryPrimitives.ReadUInt32LittleEndian(meta[8..]);
        var root = BinaryPrimitives.ReadUInt64LittleEndian(meta[16..]);
        var freelist = BinaryPrimitives.ReadUInt64LittleEndian(meta[32..]);
        var pageCount = BinaryPrimitives.ReadUInt64LittleEndian(meta[40..]);
        var txid = BinaryPrimitives.ReadUInt64LittleEndian(meta[48..]);
        var checksum = BinaryPrimitives.ReadUInt64LittleEndian(meta[56..]);

        reason = null;
        if (magic != BboltFormat.Magic)
        {
            reason = $"bad magic 0x{magic:x8}";
        }
        else if (version != BboltFormat.Version)
        {
            reason = $"unsupported version {version}";
        }
        else if (checksum != Fnv1a64.Compute(meta[..BboltFormat.MetaChecksummedSize]))
        {
            reason = "checksum mismatch";
        }
        else if (BinaryPrimitives.ReadUInt64LittleEndian(page) != expectedPageId
            || BinaryPrimitives.ReadUInt16LittleEndian(page[8..]) != BboltFormat.MetaPageFlag)
        {
            reason = "page header is not a meta page header";
        }
        else if (pageSize < BboltFormat.MinPageSize || pageSize > BboltFormat.MaxPageSize || !uint.IsPow2(pageSize))
        {
            reason = $"implausible page size {pageSize}";
        }
        else if (pageCount < 3 || root < 2 || root >= pageCount)
        {
            reason = $"root page {root} outside [2, {pageCount})";
        }
        else if (freelist != BboltFormat.NoFreelist && (freelist < 2 || freelist >= pageCount))
        {
            reason = $"freelist page {freelist} outside [2, {pageCount})";
        }
        else if (pageCount > (ulong)(long.MaxValue / pageSize))
        {
            reason = $"page count {pageCount} overflows";
        }

        return reason is null ? new BboltMeta((int)pageSize, root, freelist, pageCount, txid) : null;
    }
}
