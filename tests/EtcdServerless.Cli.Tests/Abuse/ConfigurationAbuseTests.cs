using System.Text.Json;

namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>
/// Defends: a value of the wrong type never makes a cluster silently vanish (it is an error naming its key), and
/// a mistyped key is reported (a warning, an error with StrictConfiguration).
/// </summary>
[Trait("Category", "Abuse")]
public sealed class ConfigurationAbuseTests : IDisposable
{
    private readonly CliTestEnvironment _env = new();

    [Theory]
    [InlineData("KeepLast", "\"four\"", "Clusters:c2:Retention:KeepLast", "'four' is not a valid whole number")]
    [InlineData("KeepLast", "{ \"x\": 1 }", "Clusters:c2:Retention:KeepLast", "expected a value")]
    [InlineData("Daily", "\"99999999999999\"", "Clusters:c2:Retention:Daily", "not a valid whole number")]
    public async Task BackupList_ClusterValueOfWrongType_ErrorNamesKey(string key, string json, string path, string message)
    {
        var config = WriteConfig($"{{ \"{key}\": {json} }}");

        var list = await Cli.RunAsync("backup", "list", "--config", config, "--cluster", "c2");

        Assert.Equal(1, list.ExitCode);
        Assert.Contains(path, list.Err, StringComparison.Ordinal);
        Assert.Contains(message, list.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown cluster", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupList_MistypedKey_WarnsWithFullPath()
    {
        var config = WriteConfig("{ \"KeepLast\": 2 }", retentionKey: "Retentoin");

        var list = await Cli.RunAsync("backup", "list", "--config", config);

        Assert.True(list.ExitCode == 0, list.Err);
        Assert.Contains("warning:", list.Err, StringComparison.Ordinal);
        Assert.Contains("Clusters:c2:Retentoin: unknown key", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupList_MistypedKeyWithStrictConfiguration_Fails()
    {
        var config = WriteConfig("{ \"KeepLast\": 2 }", retentionKey: "Retentoin", strict: true);

        var list = await Cli.RunAsync("backup", "list", "--config", config);

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("Clusters:c2:Retentoin: unknown key", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupList_WrongTypeFromEnvironmentStyleKeyInFile_IsNotSilentlyIgnored()
    {
        // Store:ImmutabilityDays outside a dictionary failed before too; the check must keep that behaviour.
        var config = WriteConfig("{ \"KeepLast\": 1 }", storeImmutability: "\"seven\"");

        var list = await Cli.RunAsync("backup", "list", "--config", config);

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("Store:ImmutabilityDays", list.Err, StringComparison.Ordinal);
    }

    private string WriteConfig(string retention, string retentionKey = "Retention", bool strict = false, string storeImmutability = "0")
    {
        var json = $$"""
        {
          {{(strict ? "\"StrictConfiguration\": true," : "")}}
          "Store": { "Uri": {{JsonSerializer.Serialize(new Uri(_env.StoreDir).AbsoluteUri)}}, "ImmutabilityDays": {{storeImmutability}} },
          "Keys": { "Uri": {{JsonSerializer.Serialize(new Uri(_env.KeysDir).AbsoluteUri)}} },
          "Clusters": {
            "c1": { "Endpoints": [ "http://127.0.0.1:1" ] },
            "c2": { "Endpoints": [ "http://127.0.0.1:2" ], "{{retentionKey}}": {{retention}} }
          }
        }
        """;
        File.WriteAllText(_env.ConfigPath, json);
        return _env.ConfigPath;
    }

    public void Dispose() => _env.Dispose();
}
