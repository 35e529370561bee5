namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class DemoCommandTests
{
    [Fact]
    public async Task Demo_EndToEnd_BacksUpRestoresThroughAgentsAndCleansUp()
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
        Assert.Contains("==> the disaster: stopping every member and deleting every data directory", err, StringComparison.Ordinal);
        Assert.Contains("==> restoring the cluster from the backup through the member agents (mutual TLS)", err, StringComparison.Ordinal);
        Assert.Contains("restore result: Succeeded", output, StringComparison.Ordinal);
        Assert.Matches(@"demo-1\s+started\s+stop ok .*restore ok .*start ok", output);
        Assert.Contains("verify     ok: 3 up, 1 leader", output, StringComparison.Ordinal);
        Assert.Matches(@"restore check: (\d+)/\1 sample keys back on all 3 members, 0/12 post-backup keys left", output);
        Assert.DoesNotContain("FAILED", output, StringComparison.Ordinal);
        var after = Directory.GetDirectories(Path.GetTempPath(), "etcd-backup-demo-*").Where(d => !before.Contains(d));
        Assert.Empty(after);
        var root = System.Text.RegularExpressions.Regex.Match(output, @"all in (\S+etcd-backup-demo-\w+)").Groups[1].Value;
        Assert.NotEmpty(root);
        Assert.Empty(ProcessesMentioning(root));
    }

    // The members' etcd processes carry the demo's data directory on their command line.
    private static List<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(text, StringComparison.Ordinal))
                {
                    found.Add(cmdline);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    [Fact]
    public async Task Demo_BadMemberCount_ExitTwo()
    {
        var (exit, _, err) = await Cli.RunAsync("demo", "--members", "0");

        Assert.Equal(2, exit);
        Assert.Contains("--members must be between 1 and 7", err, StringComparison.Ordinal);
    }
}
