using EtcdServerless.Etcd.Inspection;

namespace EtcdServerless.Etcd.Tests.Inspection;

[Trait("Category", "Etcd")]
[Collection(SnapshotCorpusDefinition.Name)]
public sealed class SnapshotInspectorEtcdTests(SnapshotCorpusFixture corpus)
{
    public static TheoryData<string> Names => [.. SnapshotCorpusFixture.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task InspectAsync_RealSnapshot_EqualsEtcdctlSnapshotStatus(string name)
    {
        var snapshot = corpus[name];

        var status = await SnapshotInspector.InspectAsync(snapshot.Path);

        Assert.Equal(snapshot.Expected, status);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task InspectAsync_Etcd36Semantics_CountsLiveKeysAndKeepsOtherFields(string name)
    {
        var snapshot = corpus[name];

        var status = await SnapshotInspector.InspectAsync(snapshot.Path, new SnapshotInspectionOptions { TotalKeySemantics = TotalKeySemantics.Etcd36 });

        Assert.Equal(snapshot.LiveKeys, status.TotalKey);
        Assert.Equal(snapshot.Expected with { TotalKey = snapshot.LiveKeys, Version = "" }, status);
    }

    [Fact]
    public async Task InspectAsync_RawDatabaseWithoutTrailer_SameStatus()
    {
        var snapshot = corpus["branches"];
        var raw = Path.Combine(corpus.Directory, "raw-branches.db");
        var bytes = await File.ReadAllBytesAsync(snapshot.Path);
        await File.WriteAllBytesAsync(raw, bytes[..^32]);

        var status = await SnapshotInspector.InspectAsync(raw);

        Assert.Equal(snapshot.Expected, status);
    }

    [Fact]
    public void Corpus_Shapes_CoverBranchAndOverflowPages()
    {
        // The corpus is only useful if it exercises the structures it claims to.
        var branches = PageMap.Build(corpus["branches"].Path);
        var overflow = PageMap.Build(corpus["overflow"].Path);

        Assert.Contains(branches.Pages, p => p.IsBranch);
        Assert.Contains(overflow.Pages, p => p is { IsLeaf: true, Overflow: > 0 });
        Assert.Contains(PageMap.Build(corpus["tiny"].Path).InlineBuckets, b => b == "key");
    }
}
