using EtcdServerless.Infra.Tests.Bicep;

namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>
/// infra/tools/bicep-check, the CI gate (.ci/check-infra), run with the real compiler on deliberately broken
/// samples: it must fail on a compile error and on a lone linter warning (the compiler itself exits 0 then).
/// </summary>
public sealed class BicepCheckTests
{
    [Theory]
    [InlineData("broken-error.bicep", "Error BCP057")]
    [InlineData("broken-warning.bicep", "Warning prefer-interpolation")]
    public async Task BicepCheck_BrokenSample_FailsNamingFileAndLine(string sample, string diagnostic)
    {
        // Arrange
        var path = Path.Combine(RepositoryFiles.Samples, sample);

        // Act
        var result = await BicepCli.CheckAsync([path]);

        // Assert
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"{sample}(11,", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(diagnostic, result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BicepCompiler_WarningSample_ExitsZero()
    {
        // Why the check parses diagnostics: the compiler alone accepts a template with warnings.
        var result = await BicepCli.RunAsync(["build", Path.Combine(RepositoryFiles.Samples, "broken-warning.bicep"), "--stdout"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Warning", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BicepCheck_InfraTemplates_HaveNoDiagnostics()
    {
        var files = Directory.GetFiles(RepositoryFiles.Infra, "*.bicepparam").Order(StringComparer.Ordinal).Prepend(Path.Combine(RepositoryFiles.Infra, "main.bicep"));

        var result = await BicepCli.CheckAsync(files);

        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Equal("", result.StandardOutput.Trim());
    }
}
