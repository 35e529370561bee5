using EtcdServerless.Core.Catalog;

namespace EtcdServerless.Core.Tests.Catalog;

public sealed class BackupNamingTests
{
    private static readonly DateTimeOffset Time = new(2026, 11, 21, 10, 15, 0, 123, TimeSpan.Zero);

    [Fact]
    public void CreateBackupId_UtcTimeAndRevision_IsSortableAndParses()
    {
        var id = BackupNaming.CreateBackupId(Time.ToOffset(TimeSpan.FromHours(2)), 42);

        Assert.Equal("20261121T101500123Z-r000000000042", id);
        Assert.True(BackupNaming.TryParseBackupId(id, out var created, out var revision));
        Assert.Equal(Time, created);
        Assert.Equal(42, revision);
    }

    [Fact]
    public void CreateBackupId_LaterTime_SortsAfter()
    {
        var earlier = BackupNaming.CreateBackupId(Time, 999999);
        var later = BackupNaming.CreateBackupId(Time.AddMilliseconds(1), 1);

        Assert.True(string.CompareOrdinal(earlier, later) < 0);
    }

    [Fact]
    public void ObjectNames_FollowLayout()
    {
        var id = BackupNaming.CreateBackupId(Time, 7);

        Assert.Equal($"prod-east/2026/11/21/{id}.snap.enc", BackupNaming.ArtifactName("prod-east", id));
        Assert.Equal($"prod-east/2026/11/21/{id}.manifest.json", BackupNaming.ManifestName("prod-east", id));
        Assert.True(BackupNaming.TryParseObjectName("prod-east", $"prod-east/2026/11/21/{id}.snap.enc", BackupNaming.ArtifactSuffix, out var parsed));
        Assert.Equal(id, parsed);
        Assert.False(BackupNaming.TryParseObjectName("prod-east", $"prod-east/2026/11/22/{id}.snap.enc", BackupNaming.ArtifactSuffix, out _));
        Assert.False(BackupNaming.TryParseObjectName("prod", $"prod-east/2026/11/21/{id}.snap.enc", BackupNaming.ArtifactSuffix, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("20261121T101500Z-r000000000042")]
    [InlineData("20261321T101500123Z-r000000000042")]
    [InlineData("20261121T101500123Z-000000000042")]
    [InlineData("x20261121T101500123Z-r000000000042")]
    public void TryParseBackupId_Malformed_ReturnsFalse(string id)
    {
        Assert.False(BackupNaming.TryParseBackupId(id, out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Prod")]
    [InlineData("a/b")]
    [InlineData("-x")]
    [InlineData("..")]
    public void ValidateCluster_Invalid_Throws(string cluster)
    {
        Assert.Throws<ArgumentException>(() => BackupNaming.ValidateCluster(cluster));
    }
}
