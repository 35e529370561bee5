namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>
/// .ci/check-infra must stay wired: executable (.ci/run only calls it then), compiling infra/ with the
/// pinned compiler through infra/tools/bicep-check, and self-testing on both broken samples.
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
            Assert.True(File.GetUnixFileMode(Path.Combine(RepositoryFiles.Infra, "tools", "bicep-check")).HasFlag(UnixFileMode.UserExecute));
            Assert.True(File.GetUnixFileMode(Path.Combine(RepositoryFiles.Infra, "tools", "bicep-path")).HasFlag(UnixFileMode.UserExecute));
        }

        Assert.Contains("\"$check\" infra/main.bicep \"${params[@]}\"", text, StringComparison.Ordinal);
        Assert.Contains("broken-error.bicep", text, StringComparison.Ordinal);
        Assert.Contains("broken-warning.bicep", text, StringComparison.Ordinal);
        Assert.Contains(".ci/check-infra", File.ReadAllText(Path.Combine(RepositoryFiles.Root, ".ci", "run")), StringComparison.Ordinal);
    }

    [Fact]
    public void BicepCli_Project_PinsTheNuGetPackage()
    {
        var project = File.ReadAllText(Path.Combine(RepositoryFiles.Infra, "tools", "bicep-cli", "BicepCli.csproj"));

        Assert.Contains("<PackageDownload Include=\"Azure.Bicep.CommandLine.linux-x64\" Version=\"[0.49.2]\" />", project, StringComparison.Ordinal);
    }
}
