using EtcdServerless.Core.Configuration;

namespace EtcdServerless.Infra.Tests.Contract;

public sealed class AppSettingsContractTests
{
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
    public void Compare_OptionalKeyMissing_IsReportedOnlyWhenEveryOptionIsExpected()
    {
        var none = new Dictionary<string, string>();
        var optional = new Dictionary<string, string> { ["Clusters__*__Tls__CaFile"] = "reason" };
        string[] code = ["Clusters__*__Schedule", "Clusters__*__Tls__CaFile"];
        string[] deployed = ["Clusters__east__Schedule"];

        var perEnvironment = AppSettingsContract.Compare(code, none, none, none, deployed, optional);
        var everyOption = AppSettingsContract.Compare(code, none, none, none, deployed);

        Assert.True(perEnvironment.IsClean, perEnvironment.ToString());
        Assert.Equal(["Clusters__*__Tls__CaFile"], everyOption.ReadButNotSet);
    }

    [Fact]
    public void ContractLists_EveryEntry_HasAReason()
    {
        foreach (var (key, reason) in DeploymentContract.NotDeployed.Concat(DeploymentContract.HostSettings)
            .Concat(DeploymentContract.ForbiddenOnFlex).Concat(DeploymentContract.OptionalPerEnvironment))
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
