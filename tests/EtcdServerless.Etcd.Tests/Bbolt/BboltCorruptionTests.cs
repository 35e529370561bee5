using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Etcd.Tests.Inspection;

namespace EtcdServerless.Etcd.Tests.Bbolt;

/// <summary>Targeted damage to real snapshots: each defect is rejected with an error naming where it is.</summary>
[Trait("Category", "Etcd")]
[Collection(SnapshotCorpusDefinition.Name)]
public sealed class BboltCorruptionTests(SnapshotCorpusFixture corpus)
{
    private static readonly SnapshotInspectionOptions s_noTrailerCheck = new() { VerifyTrailer = false };

    [Theory]
    [InlineData(16)] // magic
    [InlineData(24)] // page size
    [InlineData(32)] // root
    [InlineData(56)] // pgid (high-water mark)
    [InlineData(64)] // txid
    [InlineData(72)] // checksum
    [InlineData(8)] // page header flags
    public async Task InspectAsync_OneMetaFlipped_FallsBackToTheOtherAndReadsCorrectly(int offsetInMeta)
    {
        var snapshot = corpus["branches"];
        var map = PageMap.Build(snapshot.Path);

        foreach (var metaPage in new[] { 0, 1 })
        {
            var path = Damage(snapshot, $"meta{metaPage}-{offsetInMeta}", d => d[(metaPage * map.PageSize) + offsetInMeta] ^= 0x04);

            var status = await SnapshotInspector.InspectAsync(path);

            Assert.Equal(snapshot.Expected, status);
        }
    }

    [Fact]
    public async Task InspectAsync_BothMetasFlipped_ThrowsNamingBoth()
    {
        var snapshot = corpus["tiny"];
        var map = PageMap.Build(snapshot.Path);
        var path = Damage(snapshot, "both-metas", d =>
        {
            d[40] ^= 0x01;
            d[map.PageSize + 40] ^= 0x01;
        });

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains("meta page 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("meta page 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_BranchChildOutOfBounds_ThrowsNamingPage()
    {
        var snapshot = corpus["branches"];
        var map = PageMap.Build(snapshot.Path);
        var branch = map.First(p => p.IsBranch && !p.InRootTree);
        var bogus = map.PageCount + 7;
        var path = Damage(snapshot, "branch-child", d => CorruptSnapshot.PutU64(d, branch.Offset + 16 + 8, bogus));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {bogus}: out of bounds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_BranchChildReferencedTwice_ThrowsMultipleReferences()
    {
        var snapshot = corpus["branches"];
        var map = PageMap.Build(snapshot.Path);
        var branch = map.First(p => p.IsBranch && !p.InRootTree && p.Count >= 2);
        var path = Damage(snapshot, "branch-dup", d =>
            CorruptSnapshot.PutU64(d, branch.Offset + 32 + 8, CorruptSnapshot.GetU64(d, branch.Offset + 16 + 8)));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains("multiple references", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_BranchHeaderIdWrong_ThrowsNamingPageAndOffset()
    {
        var snapshot = corpus["branches"];
        var branch = PageMap.Build(snapshot.Path).First(p => p.IsBranch);
        var path = Damage(snapshot, "branch-id", d => CorruptSnapshot.PutU64(d, branch.Offset, branch.Id + 1));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {branch.Id} (offset {branch.Offset}): header carries id {branch.Id + 1}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_LeafCountTooLarge_ThrowsNamingPage()
    {
        var snapshot = corpus["branches"];
        var leaf = PageMap.Build(snapshot.Path).First(p => p.IsLeaf && !p.InRootTree);
        var path = Damage(snapshot, "leaf-count", d => CorruptSnapshot.PutU16(d, leaf.Offset + 10, 0xFFFE));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {leaf.Id}: 65534 elements do not fit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_LeafElementPastPage_ThrowsNamingPageAndElement()
    {
        var snapshot = corpus["branches"];
        var leaf = PageMap.Build(snapshot.Path).First(p => p.IsLeaf && !p.InRootTree && p.Count > 3);
        var path = Damage(snapshot, "leaf-vsize", d => CorruptSnapshot.PutU32(d, leaf.Offset + 16 + (2 * 16) + 12, 1_000_000));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {leaf.Id}: leaf element 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_LeafFlagsNotATreePage_ThrowsInvalidType()
    {
        var snapshot = corpus["branches"];
        var leaf = PageMap.Build(snapshot.Path).First(p => p.IsLeaf && !p.InRootTree);
        var path = Damage(snapshot, "leaf-type", d => CorruptSnapshot.PutU16(d, leaf.Offset + 8, 0x10));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {leaf.Id}", error.Message, StringComparison.Ordinal);
        Assert.Contains("invalid type freelist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_LeafFlagsUnknown_ThrowsInvalidFlags()
    {
        var snapshot = corpus["branches"];
        var leaf = PageMap.Build(snapshot.Path).First(p => p.IsLeaf && !p.InRootTree);
        var path = Damage(snapshot, "leaf-flags", d => CorruptSnapshot.PutU16(d, leaf.Offset + 8, 0x03));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {leaf.Id} (offset {leaf.Offset}): invalid page flags 0x0003", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_OverflowPastHighWaterMark_ThrowsNamingPage()
    {
        var snapshot = corpus["overflow"];
        var map = PageMap.Build(snapshot.Path);
        var page = map.First(p => p is { IsLeaf: true, Overflow: > 0 });
        var path = Damage(snapshot, "overflow", d => CorruptSnapshot.PutU32(d, page.Offset + 12, (uint)map.PageCount));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains($"page {page.Id} (offset {page.Offset}): {map.PageCount} overflow pages run past", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectAsync_OverflowPageBytesChanged_TrailerCatchesIt()
    {
        var snapshot = corpus["overflow"];
        var map = PageMap.Build(snapshot.Path);
        var page = map.First(p => p is { IsLeaf: true, Overflow: > 0 });
        var path = Damage(snapshot, "overflow-bytes", d => d[page.Offset + map.PageSize + 100] ^= 0xFF, refreshTrailer: false);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));
        var unchecked_ = await SnapshotInspector.InspectAsync(path, s_noTrailerCheck);

        Assert.Contains("snapshot sha256 trailer mismatch", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(snapshot.Expected.Hash, unchecked_.Hash);
    }

    [Fact]
    public async Task InspectAsync_WrongTrailer_ThrowsMismatchUnlessSkipped()
    {
        var snapshot = corpus["leases"];
        var path = Path.Combine(corpus.Directory, "wrong-trailer.db");
        var bytes = await File.ReadAllBytesAsync(snapshot.Path);
        bytes[^1] ^= 0x80;
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));
        var skipped = await SnapshotInspector.InspectAsync(path, s_noTrailerCheck);

        Assert.StartsWith("snapshot sha256 trailer mismatch", error.Message, StringComparison.Ordinal);
        Assert.Equal(snapshot.Expected, skipped);
    }

    [Fact]
    public async Task InspectAsync_Truncated_ThrowsEndOfStreamAtEveryCut()
    {
        var snapshot = corpus["branches"];
        var map = PageMap.Build(snapshot.Path);
        var bytes = await File.ReadAllBytesAsync(snapshot.Path);
        long[] cuts = [0, 40, map.PageSize + 50, 2L * map.PageSize, map.DataLength / 2 / map.PageSize * map.PageSize, map.DataLength - map.PageSize, map.DataLength - 1];

        foreach (var cut in cuts)
        {
            var path = Path.Combine(corpus.Directory, $"cut-{cut}.db");
            await File.WriteAllBytesAsync(path, bytes[..(int)cut]);

            var error = await Assert.ThrowsAsync<EndOfStreamException>(() => SnapshotInspector.InspectAsync(path));

            Assert.False(string.IsNullOrWhiteSpace(error.Message));
        }
    }

    [Fact]
    public async Task InspectAsync_TruncatedToTrailerShape_ThrowsTrailerMismatch()
    {
        var snapshot = corpus["branches"];
        var bytes = await File.ReadAllBytesAsync(snapshot.Path);
        var path = Path.Combine(corpus.Directory, "cut-trailer-shape.db");
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length - 512)]);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => SnapshotInspector.InspectAsync(path));

        Assert.Contains("snapshot sha256 trailer mismatch", error.Message, StringComparison.Ordinal);
    }

    private string Damage(CorpusSnapshot snapshot, string name, Action<byte[]> mutate, bool refreshTrailer = true) =>
        CorruptSnapshot.Write(snapshot.Path, Path.Combine(corpus.Directory, $"{snapshot.Name}-{name}.db"), mutate, refreshTrailer);
}
