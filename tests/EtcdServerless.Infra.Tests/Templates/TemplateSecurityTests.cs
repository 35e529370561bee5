using System.Text.RegularExpressions;

namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>
/// Structural assertions on the security-relevant properties of the templates: what a reviewer checks in
/// docs/operations.md's review table, enforced so a later edit cannot silently drop it.
/// </summary>
public sealed class TemplateSecurityTests
{
    [Fact]
    public void BackupStorage_Account_NoSharedKeyNoPublicAccessTls12()
    {
        var account = BicepText.ResourceBody(BicepText.Module("backupStorage.bicep"), "account");

        Assert.True(BicepText.HasProperty(account, "allowSharedKeyAccess", "false"));
        Assert.True(BicepText.HasProperty(account, "allowBlobPublicAccess", "false"));
        Assert.True(BicepText.HasProperty(account, "minimumTlsVersion", "'TLS1_2'"));
        Assert.True(BicepText.HasProperty(account, "supportsHttpsTrafficOnly", "true"));
    }

    [Fact]
    public void BackupStorage_Container_VersionLevelWormWithDefaultPolicy()
    {
        var text = BicepText.Module("backupStorage.bicep");
        var blobService = BicepText.ResourceBody(text, "blobService");
        var container = BicepText.ResourceBody(text, "container");
        var policy = BicepText.ResourceBody(text, "defaultPolicy");

        Assert.True(BicepText.HasProperty(blobService, "isVersioningEnabled", "true"));
        Assert.Contains("immutableStorageWithVersioning", container, StringComparison.Ordinal);
        Assert.True(BicepText.HasProperty(container, "enabled", "true"));
        Assert.True(BicepText.HasProperty(container, "publicAccess", "'None'"));
        Assert.True(BicepText.HasProperty(policy, "immutabilityPeriodSinceCreationInDays", "immutabilityDays"));
        Assert.True(BicepText.HasProperty(policy, "allowProtectedAppendWrites", "false"));
    }

    [Fact]
    public void Main_ImmutabilityDays_FeedsBothThePolicyAndTheApp()
    {
        var main = BicepText.MainTemplate();

        Assert.Equal(2, Regex.Count(main, @"(?m)^\s*immutabilityDays:\s*immutabilityDays\s*$"));
    }

    [Fact]
    public void HostStorage_Account_NoSharedKey()
    {
        var account = BicepText.ResourceBody(BicepText.Module("hostStorage.bicep"), "account");

        Assert.True(BicepText.HasProperty(account, "allowSharedKeyAccess", "false"));
        Assert.True(BicepText.HasProperty(account, "allowBlobPublicAccess", "false"));
    }

    [Fact]
    public void KeyVault_RbacPurgeProtectionNinetyDays()
    {
        var vault = BicepText.ResourceBody(BicepText.Module("keyVault.bicep"), "vault");

        Assert.True(BicepText.HasProperty(vault, "enableRbacAuthorization", "true"));
        Assert.True(BicepText.HasProperty(vault, "enablePurgeProtection", "true"));
        Assert.True(BicepText.HasProperty(vault, "softDeleteRetentionInDays", "90"));
        Assert.DoesNotContain("accessPolicies", vault, StringComparison.Ordinal);
    }

    [Fact]
    public void Rbac_BlobWriterRole_HasExactlyTheBackupDataActions()
    {
        var text = BicepText.Module("rbac.bicep");
        var dataActions = Regex.Matches(text, @"'\$\{blobPrefix\}/([^']+)'").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(
            ["delete", "deleteBlobVersion/action", "filter/action", "read", "tags/read", "tags/write", "write"],
            dataActions);
    }

    [Theory]
    [InlineData("immutableStorage/runAsSuperUser")]
    [InlineData("permanentDelete")]
    [InlineData("/runAsSuperUser/action")]
    [InlineData("containers/write")]
    [InlineData("immutabilityPolicies")]
    [InlineData("/*'")]
    public void Rbac_AppRoles_NeverGrantPolicyOrWildcardActions(string forbidden)
    {
        var text = BicepText.Module("rbac.bicep");

        Assert.DoesNotContain(forbidden, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Rbac_SecretsOfficer_OnlyForKekAdministrators()
    {
        var text = BicepText.Module("rbac.bicep");
        var admins = BicepText.ResourceBody(text, "kekAdmins");
        var officerUses = Regex.Count(text, @"roles\.keyVaultSecretsOfficer");

        Assert.Equal(officerUses, Regex.Count(admins, @"roles\.keyVaultSecretsOfficer"));
        Assert.True(BicepText.HasProperty(admins, "principalId", "admin"));
    }

    [Fact]
    public void FunctionApp_FlexDotnetIsolated10_UserAssignedIdentity()
    {
        var text = BicepText.Module("functionApp.bicep");
        var plan = BicepText.ResourceBody(text, "plan");
        var site = BicepText.ResourceBody(text, "site");

        Assert.True(BicepText.HasProperty(plan, "tier", "'FlexConsumption'"));
        Assert.True(BicepText.HasProperty(plan, "name", "'FC1'"));
        Assert.True(BicepText.HasProperty(site, "type", "'UserAssigned'"));
        Assert.True(BicepText.HasProperty(site, "httpsOnly", "true"));
        Assert.True(BicepText.HasProperty(site, "name", "'dotnet-isolated'"));
        Assert.True(BicepText.HasProperty(site, "version", "'10.0'"));
        Assert.True(BicepText.HasProperty(site, "type", "'blobContainer'"));
        Assert.True(BicepText.HasProperty(site, "type", "'UserAssignedIdentity'"));
        Assert.True(BicepText.HasProperty(site, "keyVaultReferenceIdentity", "identityId"));
    }

    [Theory]
    [InlineData("BackupSucceeded")]
    [InlineData("RestoreFailed")]
    public void Alerts_Queries_UseTheEventContract(string eventName)
    {
        var text = BicepText.Module("alerts.bicep");

        Assert.Contains($"event == '{eventName}'", text, StringComparison.Ordinal);
        Assert.Contains("customDimensions.EventName", text, StringComparison.Ordinal);
        Assert.Contains("customDimensions.Cluster", text, StringComparison.Ordinal);
        Assert.True(BicepText.HasProperty(text, "name", "'cluster'"), "alerts must split by the cluster dimension");
    }

    [Fact]
    public void Alerts_BackupSucceeded_IsEmittedByTheCodeWithACluster()
    {
        // The stale-backup alert is only as good as the event it counts: a [LoggerMessage] named
        // BackupSucceeded with a {Cluster} template property must exist somewhere in src/.
        var sources = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText);

        Assert.Contains(sources, t => Regex.IsMatch(t, @"EventName\s*=\s*""BackupSucceeded""[^\]]*\{Cluster\}"));
    }

    [Fact]
    public void AllTemplates_EveryParam_HasDescription()
    {
        var missing = RepositoryFiles.InfraBicepFiles()
            .SelectMany(f => BicepText.ParamsWithoutDescription(File.ReadAllText(f)).Select(p => $"{Path.GetFileName(f)}:{p}"))
            .ToList();

        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public void ParamFiles_PerEnvironment_UseMainAndNameTheirEnvironment(string environment)
    {
        var text = RepositoryFiles.Read("infra", $"{environment}.bicepparam");

        Assert.Matches(@"(?m)^using '\./main\.bicep'\s*$", text);
        Assert.Matches($@"(?m)^param environmentName = '{environment}'\s*$", text);
    }

    [Fact]
    public void ParamsWithoutDescription_UndescribedParam_IsFound()
    {
        const string text = "@description('ok')\n@allowed([\n  'x'\n])\nparam a string\n@minValue(1)\nparam b int\nparam c string\n";

        Assert.Equal(["b", "c"], BicepText.ParamsWithoutDescription(text));
    }
}
