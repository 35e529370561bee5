using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace EtcdServerless.Etcd.Bbolt;

/// <summary>
/// One ordered pass over every reachable page of a <see cref="BboltFile"/>, reporting buckets and entries to
/// a visitor while checking the structure as bbolt's <c>tx.Check()</c> does: page ids and types, element
/// bounds, no page referenced twice (which also rules out cycles), pages below the high-water mark, and, when
/// the freelist is stored, that every page is either reachable or free and never both. Memory stays bounded
/// by tree depth times page span; any defect raises <see cref="InvalidDataException"/> naming the page.
/// </summary>
internal sealed partial class BboltWalker : IDisposable
{
    private readonly BboltFile _file;
    private readonly ulong[] _reachable;
    private readonly ulong[]? _free;
    private readonly byte[]?[] _levels = new byte[BboltFormat.MaxDepth + 1][];
    private readonly CancellationToken _cancellationToken;
    private Queue<ulong>? _deferred;
    private int _pagesUntilCancellationCheck;

    private BboltWalker(BboltFile file, CancellationToken cancellationToken)
    {
        _file = file;
        _cancellationToken = cancellationToken;
        var words = (int)((file.Meta.PageCount + 63) / 64);
        _reachable = new ulong[words];
        _free = file.Meta.Freelist == BboltFormat.NoFreelist ? null : new ulong[words];
    }

    /// <summary>Walks the whole database, feeding <paramref name="visitor"/> in cursor order.</summary>
    public static void Walk<TVisitor>(BboltFile file, ref TVisitor visitor, CancellationToken cancellationToken = default)
        where TVisitor : struct, IBboltVisitor
    {
        ArgumentNullException.ThrowIfNull(file);
        using var walker = new BboltWalker(file, cancellationToken);
        walker.Run(ref visitor);
    }

    public void Dispose()
    {
        for (var i = 0; i < _levels.Length; i++)
        {
            if (_levels[i] is { } buffer)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                _levels[i] = null;
            }
        }
    }

    private void Run<TVisitor>(ref TVisitor visitor)
        where TVisitor : struct, IBboltVisitor
    {
        Mark(0, 0);
        Mark(1, 0);
        if (_free is not null)
        {
            ReadFreelist();
        }

        WalkTree(_file.Meta.Root, 0, TreeKind.Root, ref visitor);

        var ignore = default(NullVisitor);
        while (_deferred is { Count: > 0 })
        {
            WalkTree(_deferred.Dequeue(), 0, TreeKind.Checked, ref ignore);
        }

        if (_free is not null)
        {
            CheckEveryPageAccountedFor(_free);
        }
    }

    private enum TreeKind
    {
        /// <summary>The root tree: its entries are buckets, walked as they come.</summary>
        Root,

        /// <summary>A root-level bucket: entries reported to the visitor.</summary>
        Reported,

        /// <summary>A nested bucket: checked only.</summary>
        Checked,
    }

    private void WalkTree<TVisitor>(ulong pageId, int depth, TreeKind kind, ref TVisitor visitor)
        where TVisitor : struct, IBboltVisitor
    {
        // Root-tree pages stay in a per-depth buffer while the buckets they name are walked. Bucket leaves are
        // read in place (nothing else is read while one is scanned: nested trees are deferred); branches are
        // copied because their children move the read window.
        var page = LoadTreePage(pageId, depth, out var flags);
        if (flags == BboltFormat.BranchPageFlag)
        {
            page = Stabilize(page, depth);
            var count = ElementCount(page, pageId);
            if (count == 0)
            {
                throw new InvalidDataException($"page {pageId}: branch page has no elements");
            }

            for (var i = 0; i < count; i++)
            {
                WalkTree(BranchChild(page, i, pageId), depth + 1, kind, ref visitor);
            }

            return;
        }

        if (kind != TreeKind.Root)
        {
            WalkLeafEntries(page, pageId, depth, kind == TreeKind.Reported, ref visitor);
            return;
        }

        page = Stabilize(page, depth);
        var elements = ElementCount(page, pageId);
        for (var i = 0; i < elements; i++)
        {
            var elementFlags = LeafElement(page, i, pageId, out var key, out var value);
            if ((elementFlags & BboltFormat.BucketLeafFlag) == 0)
            {
                throw new InvalidDataException(
                    $"page {pageId}: root-level key '{Printable(key)}' (element {i}) is not a bucket");
            }

            visitor.OnBucket(key);
            var bucketRoot = BucketRoot(value, pageId, i);
            if (bucketRoot == 0)
            {
                WalkInline(value[BboltFormat.BucketHeaderSize..], pageId, i, depth + 1, report: true, ref visitor);
            }
            else
            {
                WalkTree(bucketRoot, depth + 1, TreeKind.Reported, ref visitor);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WalkLeafEntries<TVisitor>(ReadOnlySpan<byte> page, ulong pageId, int depth, bool report, ref TVisitor visitor)
        where TVisitor : struct, IBboltVisitor
    {
        var count = ElementCount(page, pageId);
        for (var i = 0; i < count; i++)
        {
            var elementFlags = LeafElement(page, i, pageId, out var key, out var value);
            if ((elementFlags & BboltFormat.BucketLeafFlag) == 0)
            {
                if (report)
                {
                    visitor.OnEntry(key, value, isBucket: false);
                }

                continue;
            }

            if (report)
            {
                visitor.OnEntry(key, [], isBucket: true);
            }

            var nestedRoot = BucketRoot(value, pageId, i);
            if (nestedRoot == 0)
            {
                var ignore = default(NullVisitor);
                WalkInline(value[BboltFormat.BucketHeaderSize..], pageId, i, depth + 1, report: false, ref ignore);
            }
            else
            {
                (_deferred ??= new Queue<ulong>()).Enqueue(nestedRoot);
            }
        }
    }

    private void WalkInline<TVisitor>(ReadOnlySpan<byte> inlinePage, ulong hostPageId, int hostElement, int depth, bool report, ref TVisitor visitor)
        where TVisitor : struct, IBboltVisitor
    {
        if (depth > BboltFormat.MaxDepth)
        {
            throw new InvalidDataException($"page {hostPageId}: buckets nested deeper than {BboltFormat.MaxDepth} levels");
        }

        if (inlinePage.Length < BboltFormat.PageHeaderSize)
        {
            throw new InvalidDataException(
                $"page {hostPageId}: inline bucket in element {hostElement} is {inlinePage.Length} bytes, shorter than a page header");
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(inlinePage[8..]);
        if (flags != BboltFormat.LeafPageFlag)
        {
            throw new InvalidDataException(
                $"page {hostPageId}: inline bucket in element {hostElement} has page type {BboltFormat.DescribeFlags(flags)}, expected leaf");
        }

        // Element positions inside an inline page are relative to the value, so the same reader applies.
        WalkLeafEntries(inlinePage, hostPageId, depth, report, ref visitor);
    }

    private static ulong BranchChild(ReadOnlySpan<byte> page, int index, ulong pageId)
    {
        var element = BboltFormat.PageHeaderSize + (index * BboltFormat.ElementSize);
        var pos = BinaryPrimitives.ReadUInt32LittleEndian(page[element..]);
        var keySize = BinaryPrimitives.ReadUInt32LittleEndian(page[(element + 4)..]);
        var child = BinaryPrimitives.ReadUInt64LittleEndian(page[(element + 8)..]);
        if ((ulong)element + pos + keySize > (ulong)page.Length)
        {
            throw new InvalidDataException(
                $"page {pageId}: branch element {index} key (pos {pos}, size {keySize}) runs past the page span ({page.Length} bytes)");
        }

        if (child < 2)
        {
            throw new InvalidDataException($"page {pageId}: branch element {index} points at meta page {child}");
        }

        return child;
    }

    private ReadOnlySpan<byte> LoadTreePage(ulong pageId, int depth, out ushort flags)
    {
        if (depth > BboltFormat.MaxDepth)
        {
            throw new InvalidDataException($"page {pageId}: tree deeper than {BboltFormat.MaxDepth} levels");
        }

        if (--_pagesUntilCancellationCheck < 0)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            _pagesUntilCancellationCheck = 256;
        }

        if (pageId < 2)
        {
            throw new InvalidDataException($"page {pageId}: a meta page is referenced as a tree page");
        }

        var page = _file.ReadPage(pageId, out flags);
        if (flags is not (BboltFormat.BranchPageFlag or BboltFormat.LeafPageFlag))
        {
            throw new InvalidDataException(
                $"page {pageId} (offset {(long)pageId * _file.PageSize}): invalid type {BboltFormat.DescribeFlags(flags)} where a branch or leaf page was expected");
        }

        Mark(pageId, (uint)(page.Length / _file.PageSize) - 1);
        return page;
    }

    private ReadOnlySpan<byte> Stabilize(ReadOnlySpan<byte> page, int depth)
    {
        var buffer = _levels[depth];
        if (buffer is null || buffer.Length < page.Length)
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            _levels[depth] = null;
            buffer = ArrayPool<byte>.Shared.Rent(page.Length);
            _levels[depth] = buffer;
        }

        page.CopyTo(buffer);
        return buffer.AsSpan(0, page.Length);
    }

    private struct NullVisitor : IBboltVisitor
    {
        public readonly void OnBucket(ReadOnlySpan<byte> name)
        {
        }

        public readonly void OnEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isBucket)
        {
        }
    }
}
