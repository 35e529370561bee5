using System.Text.RegularExpressions;
using EtcdServerless.Infra.Tests.Bicep;

namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>Role assignments of the compiled environments (see <see cref="CompiledDeployment"/>).</summary>
public sealed partial class CompiledRbacTests
{
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";

    [Fact]
    public async Task Prod_SecretsRead_ScopedToExactlyTheSecretsTheSettingsName()
    {
        // Arrange: prod has an operator-created KEK (appManagesKek = false), so every read is per secret.
        var compiled = await CompiledDeployment.ForEnvironmentAsync("prod");
        var vault = compiled.OfType("Microsoft.KeyVault/vaults").Single();
        var vaultId = $"/subscriptions/{CompiledDeployment.SubscriptionId}/resourceGroups/rg-etcdbk-prod/providers/Microsoft.KeyVault/vaults/{vault["name"]}";

        // The secrets the app reads, as its settings name them (Keys__Uri, Tls, AgentTls, Key Vault references).
        var named = compiled.AppSettings.SelectMany(s => SecretInThisVault().Matches(s.Value)).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);

        // Act
        var scopes = SecretsUserScopes(compiled);

        // Assert
        Assert.Contains("etcd-backup-kek", named);
        Assert.Contains("restore-client-key", named);
        Assert.Equal(named.Select(n => $"{vaultId}/secrets/{n}").Order(StringComparer.Ordinal), scopes.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(vaultId, scopes);
    }

    [Fact]
    public async Task Prod_FirstDeploymentBeforeSecretsExist_GrantsNoSecretRead()
    {
        // A role assignment cannot be scoped to a secret the new vault does not hold yet.
        var compiled = await CompiledDeployment.CompileAsync(RepositoryFiles.Infra, Path.Combine(RepositoryFiles.Infra, "prod.bicepparam"),
            environment: new Dictionary<string, string> { ["ETCDBK_SECRETS_UPLOADED"] = "false" });

        Assert.Empty(compiled.Diagnostics);
        Assert.Empty(SecretsUserScopes(compiled));
    }

    [Fact]
    public async Task Dev_AppManagesKek_ReadsVaultWideBecauseTheKekDoesNotExistYet()
    {
        var compiled = await CompiledDeployment.ForEnvironmentAsync("dev");
        var vault = compiled.OfType("Microsoft.KeyVault/vaults").Single();

        var scopes = SecretsUserScopes(compiled);

        Assert.Equal([$"/subscriptions/{CompiledDeployment.SubscriptionId}/resourceGroups/rg-etcdbk-dev/providers/Microsoft.KeyVault/vaults/{vault["name"]}"], scopes);
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Environment_KeyVaultName_FitsTwentyFourCharacters(string environment)
    {
        var compiled = await CompiledDeployment.ForEnvironmentAsync(environment);

        var name = (string)compiled.OfType("Microsoft.KeyVault/vaults").Single()["name"]!;

        Assert.InRange(name.Length, 3, 24);
        Assert.StartsWith($"kv-{environment}-", name, StringComparison.Ordinal);
    }

    private static List<string> SecretsUserScopes(CompiledEnvironment compiled) =>
        [.. compiled.OfType("Microsoft.Authorization/roleAssignments")
            .Where(r => ((string?)r["properties"]?["roleDefinitionId"])?.EndsWith(KeyVaultSecretsUser, StringComparison.Ordinal) == true)
            .Select(r => ExtensionScope().Match((string)r["id"]!) is { Success: true } m ? m.Groups["scope"].Value : throw new InvalidOperationException($"no scope in {r["id"]}"))];

    // "[format('{0}secrets/{1}', reference('.../vaults/<vault>', '<api>').vaultUri, '<name>')]": a secret of this environment's vault.
    [GeneratedRegex(@"/providers/Microsoft\.KeyVault/vaults/[^']+', '[^']+'\)\.vaultUri, '(?<name>[A-Za-z0-9-]+)'\)")]
    private static partial Regex SecretInThisVault();

    [GeneratedRegex(@"^\[extensionResourceId\('(?<scope>[^']+)', 'Microsoft\.Authorization/roleAssignments'")]
    private static partial Regex ExtensionScope();
}
