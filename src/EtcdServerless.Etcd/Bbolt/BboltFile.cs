using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Etcd.Bbolt;

/// <summary>
/// Read-only, random-access view of a bbolt database file. It never loads the file whole: pages are read with
/// positional reads into one pooled window that grows while reads are sequential (up to
/// <see cref="MaxWindow"/>) and shrinks back to one page on a jump. Every offset is checked against the
/// meta's page count and the data length before it is read, so a hostile file cannot make it read past
/// its end or allocate more than its own size.
/// </summary>
internal sealed class BboltFile : IDisposable
{
    /// <summary>Largest read-ahead window (bytes).</summary>
    internal const int MaxWindow = 1 << 20;

    private readonly SafeFileHandle _handle;
    private readonly bool _ownsHandle;
    private byte[] _window;
    private long _windowStart;
    private int _windowLength;
    private int _readAhead;

    private BboltFile(SafeFileHandle handle, bool ownsHandle, long dataLength)
    {
        _handle = handle;
        _ownsHandle = ownsHandle;
        DataLength = dataLength;
        _window = ArrayPool<byte>.Shared.Rent(BboltFormat.MinPageSize * 4);
    }

    /// <summary>Bytes of the file that belong to the database (the sha trailer excluded).</summary>
    public long DataLength { get; }

    /// <summary>The meta in use: the valid one with the higher transaction id.</summary>
    public BboltMeta Meta { get; private set; }

    /// <summary>Which meta page (0 or 1) <see cref="Meta"/> came from.</summary>
    public int MetaPage { get; private set; }

    /// <summary>Why the other meta page was not used, or null when both were valid.</summary>
    public string? RejectedMetaReason { get; private set; }

    public int PageSize => Meta.PageSize;

    /// <summary>
    /// Opens a database held in the first <paramref name="dataLength"/> bytes of <paramref name="handle"/> and
    /// selects its meta. <see cref="InvalidDataException"/> when no meta is valid;
    /// <see cref="EndOfStreamException"/> when the file is shorter than a meta page or than the size the meta
    /// declares.
    /// </summary>
    public static BboltFile Open(SafeFileHandle handle, long dataLength, bool ownsHandle = false)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        var file = new BboltFile(handle, ownsHandle, dataLength);
        try
        {
            file.SelectMeta();
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns the bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>)
    /// of the database. The span is valid until the next read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<byte> Read(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > DataLength - length)
        {
            throw new EndOfStreamException(
                $"read of {length} bytes at offset {offset} runs past the end of the database ({DataLength} bytes)");
        }

        if (offset >= _windowStart && offset + length <= _windowStart + _windowLength)
        {
            return _window.AsSpan((int)(offset - _windowStart), length);
        }

        // Sequential continuation doubles the read-ahead; a jump resets it, so random access costs one page.
        var sequential = offset == _windowStart + _windowLength && _windowLength > 0;
        _readAhead = sequential ? Math.Min(Math.Max(_readAhead * 2, BboltFormat.MinPageSize * 4), MaxWindow) : 0;
        var want = (int)Math.Min(Math.Max(length, _readAhead), DataLength - offset);
        if (_window.Length < want)
        {
            ArrayPool<byte>.Shared.Return(_window);
            _window = [];
            _window = ArrayPool<byte>.Shared.Rent(want);
        }

        _windowLength = 0;
        var filled = 0;
        while (filled < want)
        {
            var n = RandomAccess.Read(_handle, _window.AsSpan(filled, want - filled), offset + filled);
            if (n == 0)
            {
                if (filled >= length)
                {
                    break;
                }

                throw new EndOfStreamException(
                    $"file ended at offset {offset + filled} while reading {length} bytes at offset {offset} (the file shrank while being read)");
            }

            filled += n;
        }

        _windowStart = offset;
        _windowLength = filled;
        return _window.AsSpan(0, length);
    }

    /// <summary>
    /// Reads page <paramref name="pageId"/> including its overflow pages after checking its header: the id
    /// equals the page number, exactly one known flag is set, and the span stays below the high-water mark.
    /// The span is valid until the next read.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<byte> ReadPage(ulong pageId, out ushort flags)
    {
        var pageSize = PageSize;
        if (pageId >= Meta.PageCount)
        {
            throw new InvalidDataException($"page {pageId}: out of bounds (high-water mark {Meta.PageCount})");
        }

        var offset = (long)pageId * pageSize;
        var first = Read(offset, pageSize);
        var id = BinaryPrimitives.ReadUInt64LittleEndian(first);
        flags = BinaryPrimitives.ReadUInt16LittleEndian(first[8..]);
        var overflow = BinaryPrimitives.ReadUInt32LittleEndian(first[12..]);
        if (id != pageId)
        {
            throw new InvalidDataException($"page {pageId} (offset {offset}): header carries id {id}");
        }

        if (flags is not (BboltFormat.BranchPageFlag or BboltFormat.LeafPageFlag or BboltFormat.MetaPageFlag or BboltFormat.FreelistPageFlag))
        {
            throw new InvalidDataException($"page {pageId} (offset {offset}): invalid page flags 0x{flags:x4}");
        }

        if (overflow == 0)
        {
            return first;
        }

        if (overflow >= Meta.PageCount - pageId || (ulong)(overflow + 1) * (ulong)pageSize > (ulong)Array.MaxLength)
        {
            throw new InvalidDataException(
                $"page {pageId} (offset {offset}): {overflow} overflow pages run past the high-water mark {Meta.PageCount}");
        }

        return Read(offset, (int)((overflow + 1) * (ulong)pageSize));
    }

    public void Dispose()
    {
        var window = _window;
        _window = [];
        if (window.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(window);
        }

        if (_ownsHandle)
        {
            _handle.Dispose();
        }
    }

    private void SelectMeta()
    {
        const int MetaBytes = BboltFormat.MetaOffset + BboltFormat.MetaSize;
        if (DataLength < MetaBytes)
        {
            throw new EndOfStreamException(
                $"file is {DataLength} bytes, shorter than a bbolt meta page ({MetaBytes} bytes at offset 0)");
        }

        var meta0 = BboltMeta.TryParse(ReadMetaBytes(0), 0, out var reason0);
        BboltMeta? meta1 = null;
        string? reason1 = null;
        long meta1Offset;
        if (meta0 is { } m0)
        {
            meta1Offset = m0.PageSize;
            meta1 = DataLength >= meta1Offset + MetaBytes
                ? BboltMeta.TryParse(ReadMetaBytes(meta1Offset), 1, out reason1)
                : null;
            reason1 = meta1 is null ? reason1 ?? $"file ends before meta page 1 at offset {meta1Offset}" : null;
            if (meta1 is { } found && found.PageSize != m0.PageSize)
            {
                meta1 = null;
                reason1 = $"page size {found.PageSize} differs from meta 0's {m0.PageSize}";
            }
        }
        else
        {
            // Like bbolt: when meta 0 is unusable, find meta 1 at each plausible page size.
            reason1 = "not found at any page size from 1 KiB to 16 MiB";
            meta1Offset = -1;
            for (long probe = BboltFormat.MinPageSize; probe <= BboltFormat.MaxPageSize && probe + MetaBytes <= DataLength; probe <<= 1)
            {
                if (BboltMeta.TryParse(ReadMetaBytes(probe), 1, out _) is { } candidate && candidate.PageSize == probe)
                {
                    meta1 = candidate;
                    meta1Offset = probe;
                    reason1 = null;
                    break;
                }
            }
        }

        (Meta, MetaPage, RejectedMetaReason) = (meta0, meta1) switch
        {
            ({ } a, { } b) => b.TransactionId > a.TransactionId ? (b, 1, null) : (a, 0, (string?)null),
            ({ } a, null) => (a, 0, $"meta page 1 (offset {meta1Offset}): {reason1}"),
            (null, { } b) => (b, 1, $"meta page 0 (offset 0): {reason0}"),
            _ => throw new InvalidDataException(
                $"not a valid bbolt database: meta page 0 (offset 0): {reason0}; meta page 1: {reason1}"),
        };

        if (Meta.Size > DataLength)
        {
            throw new EndOfStreamException(
                $"database is truncated: meta page {MetaPage} declares {Meta.PageCount} pages of {Meta.PageSize} bytes ({Meta.Size} bytes) but the file holds {DataLength}");
        }
    }

    private ReadOnlySpan<byte> ReadMetaBytes(long offset) =>
        Read(offset, BboltFormat.MetaOffset + BboltFormat.MetaSize);
}
