using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EtcdServerless.Infra.Tests.Bicep;

namespace EtcdServerless.Infra.Tests.Contract;

/// <summary>
/// The settings contract on the COMPILED templates: each environment's parameter file is compiled to ARM
/// JSON and expanded by the Bicep CLI's deployment engine (see <see cref="CompiledDeployment"/>), and the
/// Function App's resulting app settings are compared with the keys the code reads.
/// </summary>
public sealed partial class CompiledSettingsContractTests
{
    public static TheoryData<string> Environments => ["dev", "prod"];

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task Environment_AppSettings_AreExactlyTheKeysTheCodeReads(string environment)
    {
        // Arrange
        var compiled = await CompiledDeployment.ForEnvironmentAsync(environment);

        // Act
        var report = AppSettingsContract.ForDeployedNames(compiled.AppSettingNames, everyOption: false);

        // Assert
        Assert.Empty(compiled.Diagnostics);
        Assert.True(report.IsClean, $"{environment}: {report}");
    }

    [Fact]
    public async Task EveryOptionSample_AppSettings_SetEveryKeyTheCodeReads()
    {
        // Arrange: every optional feature on, so the templates must be able to set every key.
        var compiled = await CompileSampleAsync("all-options.bicepparam");

        // Act
        var report = AppSettingsContract.ForDeployedNames(compiled.AppSettingNames, everyOption: true);

        // Assert
        Assert.Empty(compiled.Diagnostics);
        Assert.True(report.IsClean, report.ToString());
        Assert.Contains("Clusters__alpha__Members__1__AgentUrl", compiled.AppSettingNames);
        Assert.Contains("Restore__AgentTls__ServerThumbprints__0", compiled.AppSettingNames);
        Assert.DoesNotContain(compiled.AppSettingNames, n => n.StartsWith("Clusters__beta__Tls", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RenamedInTemplateOnly_Contract_ReportsBothSides()
    {
        // Arrange: the setting is renamed in the template but not in the code (Keys:Uri is still read).
        var compiled = await CompileSampleAsync("all-options.bicepparam", copy => ReplaceOnce(
            Path.Combine(copy, "modules", "functionApp.bicep"), "{ name: 'Keys__Uri',", "{ name: 'Keys__Url',"));

        // Act
        var report = AppSettingsContract.ForDeployedNames(compiled.AppSettingNames, everyOption: true);

        // Assert
        Assert.False(report.IsClean);
        Assert.Equal(["Keys__Uri"], report.ReadButNotSet);
        Assert.Equal(["Keys__Url"], report.SetButNotRead);
    }

    [Fact]
    public async Task RenamedInCodeOnly_Contract_ReportsBothSides()
    {
        // Arrange: the code now reads Store:Url, the compiled template still sets Store__Uri.
        var compiled = await CompiledDeployment.ForEnvironmentAsync("dev");
        var code = AppSettingsContract.CodeKeys().Select(k => k == "Store__Uri" ? "Store__Url" : k).ToList();

        // Act
        var report = AppSettingsContract.Compare(code, DeploymentContract.HostSettings, DeploymentContract.NotDeployed,
            DeploymentContract.ForbiddenOnFlex, compiled.AppSettingNames, DeploymentContract.OptionalPerEnvironment);

        // Assert
        Assert.Equal(["Store__Url"], report.ReadButNotSet);
        Assert.Equal(["Store__Uri"], report.SetButNotRead);
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task HostJson_DurableTask_MatchesTheDeployedSettings(string environment)
    {
        // Arrange
        var compiled = await CompiledDeployment.ForEnvironmentAsync(environment);
        var durable = JsonNode.Parse(RepositoryFiles.Read("host.json"))!["extensions"]!["durableTask"]!;

        // Act: the task hub name, after the host's %SETTING% substitution.
        var hub = Substitute((string)durable["hubName"]!, compiled);
        var provider = durable["storageProvider"];
        var connection = (string?)provider?["connectionName"] ?? "AzureWebJobsStorage";

        // Assert: a valid hub name; a backend Flex Consumption supports; an identity-based connection.
        Assert.Matches(TaskHubName(), hub);
        Assert.Equal("AzureStorage", (string?)provider?["type"]);
        Assert.Null(compiled.AppSetting(connection));
        Assert.Equal("managedidentity", compiled.AppSetting($"{connection}__credential"));
        Assert.Equal(compiled.AppSetting("AZURE_CLIENT_ID"), compiled.AppSetting($"{connection}__clientId"));
        var account = compiled.AppSetting($"{connection}__accountName");
        var storage = compiled.OfType("Microsoft.Storage/storageAccounts").Single(a => (string?)a["name"] == account);
        Assert.Equal("False", storage["properties"]!["allowSharedKeyAccess"]!.ToString(), ignoreCase: true);
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task HostJson_EverySubstitution_IsSetInTheEnvironment(string environment)
    {
        // host.json may reference app settings as %NAME%; an unset one stops the host at start.
        var compiled = await CompiledDeployment.ForEnvironmentAsync(environment);
        var referenced = Substitution().Matches(RepositoryFiles.Read("host.json")).Select(m => m.Groups[1].Value).ToList();

        Assert.NotEmpty(referenced);
        Assert.All(referenced, r => Assert.False(string.IsNullOrEmpty(compiled.AppSetting(r)), $"{environment}: %{r}% is not set"));
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task Environment_FunctionApp_IsFlexDotnetIsolatedWithoutForbiddenSettings(string environment)
    {
        var compiled = await CompiledDeployment.ForEnvironmentAsync(environment);
        var config = compiled.FunctionApp["properties"]!["functionAppConfig"]!;

        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)config["runtime"]!["version"]);
        Assert.Equal("blobContainer", (string?)config["deployment"]!["storage"]!["type"]);
        Assert.DoesNotContain(compiled.AppSettingNames, n => DeploymentContract.ForbiddenOnFlex.ContainsKey(n));
    }

    private static Task<CompiledEnvironment> CompileSampleAsync(string parameterFile, Action<string>? edit = null) =>
        CompiledDeployment.CompileAsync(RepositoryFiles.Infra, Path.Combine(RepositoryFiles.Samples, parameterFile), edit);

    private static string Substitute(string value, CompiledEnvironment compiled) =>
        Substitution().Replace(value, m => compiled.AppSetting(m.Groups[1].Value) ?? throw new InvalidOperationException($"%{m.Groups[1].Value}% is not set"));

    private static void ReplaceOnce(string path, string from, string to)
    {
        var text = File.ReadAllText(path);
        Assert.True(text.IndexOf(from, StringComparison.Ordinal) is >= 0 and var i && text.IndexOf(from, i + 1, StringComparison.Ordinal) < 0,
            $"'{from}' must occur exactly once in {path}");
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
    }

    // Durable Functions (Azure Storage): 3-50 characters, letters and digits, starting with a letter.
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,49}$")]
    private static partial Regex TaskHubName();

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex Substitution();
}
