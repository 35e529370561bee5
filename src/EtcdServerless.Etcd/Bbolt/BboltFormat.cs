namespace EtcdServerless.Etcd.Bbolt;

/// <summary>On-disk constants of bbolt's file format (version 2, little-endian hosts).</summary>
internal static class BboltFormat
{
    public const uint Magic = 0xED0CDAED;
    public const uint Version = 2;

    public const int PageHeaderSize = 16;
    public const int ElementSize = 16;
    public const int MetaOffset = PageHeaderSize;
    public const int MetaSize = 64;
    public const int MetaChecksummedSize = 56;

    /// <summary>Size of a bucket value header (root pgid + sequence) in front of an inline page.</summary>
    public const int BucketHeaderSize = 16;

    public const ushort BranchPageFlag = 0x01;
    public const ushort LeafPageFlag = 0x02;
    public const ushort MetaPageFlag = 0x04;
    public const ushort FreelistPageFlag = 0x10;

    /// <summary>Leaf element flag: the value is a bucket header, not user data.</summary>
    public const uint BucketLeafFlag = 0x01;

    /// <summary>meta.freelist value meaning "freelist not synced to disk" (etcd on Linux).</summary>
    public const ulong NoFreelist = ulong.MaxValue;

    /// <summary>Freelist count value meaning "the real count is the first u64 after the header".</summary>
    public const ushort FreelistCountOverflow = 0xFFFF;

    /// <summary>Page sizes accepted from a meta page (bbolt probes 1 KiB to 16 MiB).</summary>
    public const int MinPageSize = 1024;
    public const int MaxPageSize = 1 << 24;

    /// <summary>
    /// Bound on nested trees and pages on one root-to-leaf path. Real trees are a handful of levels deep; the
    /// bound keeps a hostile file from exhausting the stack.
    /// </summary>
    public const int MaxDepth = 64;

    public static string DescribeFlags(ushort flags) => flags switch
    {
        BranchPageFlag => "branch",
        LeafPageFlag => "leaf",
        MetaPageFlag => "meta",
        FreelistPageFlag => "freelist",
        _ => $"0x{flags:x4}",
    };
}
