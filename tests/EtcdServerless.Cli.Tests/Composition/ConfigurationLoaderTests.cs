using System.Collections;
using EtcdServerless.Cli.Composition;

namespace EtcdServerless.Cli.Tests.Composition;

[Trait("Category", "Cli")]
public sealed class ConfigurationLoaderTests
{
    private static Hashtable Env(params (string Key, string Value)[] values)
    {
        var env = new Hashtable { ["HOME"] = "/home/test" };
        foreach (var (key, value) in values)
        {
            env[key] = value;
        }

        return env;
    }

    [Fact]
    public void Load_EnvironmentVariableWithDoubleUnderscore_OverridesJsonKey()
    {
        // Arrange
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["prod-east"] = ["http://127.0.0.1:2379"] }, schedule: "0 0 * * * *");

        // Act
        var loaded = ConfigurationLoader.Load(path, Env(("Clusters__prod-east__Schedule", "0 */15 * * * *"), ("Clusters__prod-east__Endpoints__1", "http://127.0.0.1:2380"), ("Api__ApiKey", "k1-0123456789abcdefghijklmnopqrstuv")));

        // Assert
        var cluster = loaded.Options.Clusters["prod-east"];
        Assert.Equal("0 */15 * * * *", cluster.Schedule);
        Assert.Equal(["http://127.0.0.1:2379", "http://127.0.0.1:2380"], cluster.Endpoints);
        Assert.Equal("k1-0123456789abcdefghijklmnopqrstuv", loaded.Options.Api.ApiKey);
        Assert.Equal(path, loaded.Path);
    }

    [Fact]
    public void Load_UnrelatedEnvironmentVariables_AreIgnored()
    {
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["a"] = ["http://127.0.0.1:2379"] });

        var loaded = ConfigurationLoader.Load(path, Env(("Logging__LogLevel__Default", "Debug"), ("PATH", "/bin")));

        Assert.Equal(["a"], loaded.Options.Clusters.Keys);
    }

    [Theory]
    [InlineData("Clusters__a__Tls__CaFile", "Clusters:a:Tls:CaFile")]
    [InlineData("Restore__AgentTls__CaFile", "Restore:AgentTls:CaFile")]
    public void Load_KeyVaultSecretUriInTlsSetting_ConfigurationErrorNamesTheKey(string variable, string key)
    {
        // The Function App resolves these at start; the CLI reads PEM files, so it says so instead of "file not found".
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["a"] = ["https://127.0.0.1:2379"] });

        var ex = Assert.Throws<InvalidOperationException>(() => ConfigurationLoader.Load(path, Env((variable, "https://vault.vault.azure.net/secrets/etcd-tls"))));

        Assert.StartsWith("invalid configuration", ex.Message, StringComparison.Ordinal);
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Key Vault secret URI", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Load_InvalidValueFromEnvironment_ErrorNamesTheKey()
    {
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["prod-east"] = ["http://127.0.0.1:2379"] });

        var ex = Assert.Throws<InvalidOperationException>(() => ConfigurationLoader.Load(path, Env(("Clusters__prod-east__Endpoints__0", "htp://x"))));

        Assert.Contains("Clusters:prod-east:Endpoints:0: 'htp://x' is not an http(s) URL", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NonNumericValue_ErrorNamesTheKey()
    {
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["prod-east"] = ["http://127.0.0.1:2379"] });

        var ex = Assert.Throws<InvalidOperationException>(() => ConfigurationLoader.Load(path, Env(("Store__ImmutabilityDays", "seven"))));

        Assert.Contains("Store:ImmutabilityDays", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingExplicitFile_ThrowsFileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => ConfigurationLoader.Load("/nonexistent/etcd-backup.json", Env()));

        Assert.Contains("/nonexistent/etcd-backup.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MalformedJson_ThrowsInvalidData()
    {
        using var env = new CliTestEnvironment();
        File.WriteAllText(env.ConfigPath, "{ \"Store\": { \"Uri\": ");

        var ex = Assert.Throws<InvalidDataException>(() => ConfigurationLoader.Load(env.ConfigPath, Env()));

        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoFileNoEnvironment_UsesEmbeddedDefaults()
    {
        var loaded = ConfigurationLoader.Load(null, Env(("XDG_CONFIG_HOME", "/nonexistent-cfg")));

        Assert.Null(loaded.Path);
        Assert.StartsWith("file:///", loaded.Options.Store.Uri, StringComparison.Ordinal);
        Assert.StartsWith("file:///", loaded.Options.Keys.Uri, StringComparison.Ordinal);
        Assert.NotEqual(loaded.Options.Store.Uri, loaded.Options.Keys.Uri);
    }

    [Fact]
    public void Load_ConfigFileFromEnvironmentVariable_IsUsed()
    {
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["from-env"] = ["http://127.0.0.1:2379"] });

        var loaded = ConfigurationLoader.Load(null, Env((ConfigurationLoader.ConfigFileVariable, path)));

        Assert.Equal(["from-env"], loaded.Options.Clusters.Keys);
    }
}
