namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_EndToEnd_ExitsZeroAndCleansUp()
    {
        // Arrange
        var before = Directory.GetDirectories(Path.GetTempPath(), "etcd-backup-demo-*").ToHashSet();

        // Act
        var (exit, output, err) = await Cli.RunAsync("demo");

        // Assert
        Assert.True(exit == 0, err);
        Assert.Contains("demo succeeded", output, StringComparison.Ordinal);
        Assert.Contains("backup id:", output, StringComparison.Ordinal);
        Assert.Contains("==> verifying the backup", err, StringComparison.Ordinal);
        Assert.DoesNotContain("FAILED", err, StringComparison.Ordinal);
        var after = Directory.GetDirectories(Path.GetTempPath(), "etcd-backup-demo-*").Where(d => !before.Contains(d));
        Assert.Empty(after);
    }

    [Fact]
    public async Task Demo_BadMemberCount_ExitTwo()
    {
        var (exit, _, err) = await Cli.RunAsync("demo", "--members", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--members must be between 1 and 7", err, StringComparison.Ordinal);
    }
}
