using EtcdServerless.Core.Configuration;
using EtcdServerless.Infra.Tests.Contract;

namespace EtcdServerless.Infra.Tests.Contract;

public sealed class AppSettingsContractTests
{
    [Fact]
    public void InfraTemplates_AppSettings_AreExactlyTheKeysTheCodeReads()
    {
        // Arrange / Act
        var report = AppSettingsContract.ForBicepFiles(RepositoryFiles.InfraBicepFiles());

        // Assert
        Assert.True(report.IsClean, report.ToString());
    }

    [Fact]
    public void CodeReadKeys_FunctionsApp_FindsDirectReads()
    {
        var keys = CodeReadKeys.FromSources(CodeReadKeys.FunctionsSourceDirectory);

        Assert.Contains("AZURE_CLIENT_ID", keys);
        Assert.Contains("Backup__ConsistencyCheck", keys);
    }

    [Fact]
    public void CodeReadKeys_LiteralsAndConstants_AreFound()
    {
        using var dir = new EtcdServerless.Testing.Infrastructure.TempDirectory("infra-keys");
        File.WriteAllText(dir.Combine("A.cs"), """
            const string KeySetting = "Some:Key";
            var a = configuration.GetValue("Backup:Mode", 1);
            var b = configuration.GetValue<int>("Backup:Count");
            var c = configuration["Direct"];
            var d = configuration[KeySetting];
            var e = other.GetValue(x);
            """);

        var keys = CodeReadKeys.FromSources(dir.Path);

        Assert.Equal(["Backup__Count", "Backup__Mode", "Direct", "Some__Key"], keys);
    }

    [Fact]
    public void HostJson_Substitutions_AreDeployed()
    {
        // host.json may reference app settings as %NAME%; each must be set, or the host fails to start.
        var hostJson = RepositoryFiles.Read("host.json");
        var names = BicepAppSettings.NamesInFiles(RepositoryFiles.InfraBicepFiles());
        var referenced = System.Text.RegularExpressions.Regex.Matches(hostJson, "%([A-Za-z0-9_]+)%").Select(m => m.Groups[1].Value);

        Assert.All(referenced, r => Assert.Contains(r, names, StringComparer.OrdinalIgnoreCase));
    }

    [Fact]
    public void InfraTemplates_AppSettings_IncludeEveryOptionFamily()
    {
        // Guards the extraction itself: if the regex stopped matching, the contract test above would
        // report everything missing, but this names the concrete expectation.
        var names = BicepAppSettings.NamesInFiles(RepositoryFiles.InfraBicepFiles());

        Assert.Contains("Store__Uri", names);
        Assert.Contains("Keys__Uri", names);
        Assert.Contains("Clusters__*__Endpoints__*", names);
        Assert.Contains("Clusters__*__Schedule", names);
        Assert.Contains("Clusters__*__Members__*__AgentUrl", names);
        Assert.Contains("AzureWebJobsStorage__accountName", names);
    }

    [Fact]
    public void BrokenSample_MissingAndUnknownSettings_AreReported()
    {
        // Arrange
        var sample = Path.Combine(RepositoryFiles.Samples, "missing-setting.bicep");

        // Act
        var report = AppSettingsContract.ForBicepFiles([sample]);

        // Assert
        Assert.False(report.IsClean);
        Assert.Contains("Clusters__*__Members__*__AgentUrl", report.ReadButNotSet);
        Assert.Contains("Keys__Uri", report.ReadButNotSet);
        Assert.DoesNotContain("Store__Uri", report.ReadButNotSet);
        Assert.Contains("Store__Container", report.SetButNotRead);
        Assert.Contains("FUNCTIONS_WORKER_RUNTIME", report.SetButNotRead);
        Assert.Equal(["FUNCTIONS_WORKER_RUNTIME"], report.Forbidden);
        Assert.Contains("Keys__Uri", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_NewOptionProperty_IsReportedUntilDeployedOrListed()
    {
        // Arrange: an options tree that gained a property the templates do not know yet.
        var keys = ConfigurationKeys.Of(typeof(GrownOptions));
        var bicep = new[] { "Store__Uri" };
        var none = new Dictionary<string, string>();

        // Act
        var missing = AppSettingsContract.Compare(keys, none, none, none, bicep);
        var listed = AppSettingsContract.Compare(keys, none, new Dictionary<string, string> { ["Store__NewKnob"] = "reason" }, none, bicep);

        // Assert
        Assert.Equal(["Store__NewKnob"], missing.ReadButNotSet);
        Assert.True(listed.IsClean, listed.ToString());
    }

    [Fact]
    public void Compare_NotDeployedKeySetAnyway_IsReported()
    {
        var none = new Dictionary<string, string>();
        var notDeployed = new Dictionary<string, string> { ["Store__Uri"] = "reason" };

        var report = AppSettingsContract.Compare(["Store__Uri"], none, notDeployed, none, ["Store__Uri"]);

        Assert.Equal(["Store__Uri"], report.NotDeployedButSet);
    }

    [Fact]
    public void Compare_StaleNotDeployedEntry_IsReported()
    {
        var none = new Dictionary<string, string>();
        var notDeployed = new Dictionary<string, string> { ["Store__Removed"] = "reason" };

        var report = AppSettingsContract.Compare(["Store__Uri"], none, notDeployed, none, ["Store__Uri"]);

        Assert.Equal(["Store__Removed"], report.StaleNotDeployedEntries);
    }

    [Fact]
    public void Compare_HostSettingNotInBicep_IsReportedMissing()
    {
        var host = new Dictionary<string, string> { ["AZURE_CLIENT_ID"] = "reason" };
        var none = new Dictionary<string, string>();

        var report = AppSettingsContract.Compare([], host, none, none, []);

        Assert.Equal(["AZURE_CLIENT_ID"], report.ReadButNotSet);
    }

    [Theory]
    [InlineData("Clusters__*__Endpoints__*", "Clusters__prod-east__Endpoints__0", true)]
    [InlineData("Clusters__*__Endpoints__*", "clusters__*__endpoints__*", true)]
    [InlineData("Clusters__*__Endpoints__*", "Clusters__prod-east__Endpoints", false)]
    [InlineData("Store__Uri", "Store__Urls", false)]
    [InlineData("Store__Uri", "Store__*", true)]
    public void Matches_Segments_WildcardStandsForOneSegment(string left, string right, bool expected)
    {
        Assert.Equal(expected, AppSettingsContract.Matches(left, right));
    }

    [Fact]
    public void NotDeployedList_EveryEntry_HasAReason()
    {
        foreach (var (key, reason) in DeploymentContract.NotDeployed.Concat(DeploymentContract.HostSettings).Concat(DeploymentContract.ForbiddenOnFlex))
        {
            Assert.False(string.IsNullOrWhiteSpace(reason), $"{key} has no reason");
        }
    }

    [Fact]
    public void ConfigurationKeys_EtcdBackupOptions_UseWildcardsForDictionariesAndLists()
    {
        var keys = ConfigurationKeys.Of(typeof(EtcdBackupOptions));

        Assert.Contains("Store__Uri", keys);
        Assert.Contains("Keys__Uri", keys);
        Assert.Contains("Clusters__*__Endpoints__*", keys);
        Assert.Contains("Clusters__*__Tls__CaFile", keys);
        Assert.Contains("Clusters__*__Retention__KeepLast", keys);
        Assert.Contains("Clusters__*__Members__*__PeerUrl", keys);
        Assert.Contains("Api__ApiKey", keys);
        Assert.DoesNotContain(keys, k => k.EndsWith("__", StringComparison.Ordinal) || k.Length == 0);
    }

    [Fact]
    public void BicepAppSettings_CommentsAndOtherObjects_AreIgnored()
    {
        const string text = """
            // { name: 'Commented__Out', value: 'x' }
            resource r 'x@1' = {
              name: 'not-a-setting'
              location: 'here'
            }
            var s = [
              { name: 'Real__${x.name}__Key', value: 'https://a' }
              {
                name: 'Multi__Line'
                value: 'v'
              }
            ]
            """;

        var names = BicepAppSettings.Names(text);

        Assert.Equal(["Multi__Line", "Real__*__Key"], names);
    }

    private sealed class GrownOptions
    {
        public GrownStore Store { get; set; } = new();
    }

    private sealed class GrownStore
    {
        public string? Uri { get; set; }

        public int NewKnob { get; set; }
    }
}
