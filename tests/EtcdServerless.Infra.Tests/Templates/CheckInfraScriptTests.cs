namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>
/// The offline Bicep syntax check itself runs in .ci/check-infra (node + tree-sitter-bicep, installed there);
/// these tests only guard that the script stays wired: executable, checking infra/, and self-testing on the
/// broken sample, which must itself stay broken.
/// </summary>
public sealed class CheckInfraScriptTests
{
    [Fact]
    public void CheckInfra_Script_IsExecutableAndSelfTests()
    {
        var path = Path.Combine(RepositoryFiles.Root, ".ci", "check-infra");
        var text = File.ReadAllText(path);

        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), ".ci/check-infra must be executable (.ci/run only calls it then)");
        }

        Assert.Contains("node \"$checker\" infra", text, StringComparison.Ordinal);
        Assert.Contains("Samples/broken.bicep", text, StringComparison.Ordinal);
        Assert.Contains("tree-sitter-bicep@1.1.0", text, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokenSample_StillHasItsSyntaxError()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryFiles.Samples, "broken.bicep"));
        var opens = text.Count(c => c == '{');
        var closes = text.Count(c => c == '}');

        Assert.True(opens > closes, "broken.bicep must keep an unclosed object, or the checker's self-test proves nothing");
    }
}
