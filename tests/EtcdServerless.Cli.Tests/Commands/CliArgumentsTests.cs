namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class CliArgumentsTests
{
    [Theory]
    [InlineData("backup", "run", "--no-such-option")]
    [InlineData("backup", "describe")]
    [InlineData("backup", "list", "-o", "xml")]
    [InlineData("no-such-verb")]
    public async Task RunAsync_BadArguments_ExitTwoWithOneStderrLine(params string[] args)
    {
        var (exit, _, err) = await Cli.RunAsync(args);

        Assert.Equal(2, exit);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InvalidConfig_ExitOneNamingTheKey()
    {
        using var env = new CliTestEnvironment();
        File.WriteAllText(env.ConfigPath, """{ "Clusters": { "prod-east": { "Endpoints": [ "http://127.0.0.1:2379" ], "Schedule": "0 */15 * * *" } } }""");

        var (exit, output, err) = await Cli.RunAsync("backup", "list", "--config", env.ConfigPath);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Clusters:prod-east:Schedule: '0 */15 * * *' is not a valid NCRONTAB expression (6 fields", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_KeysInsideStore_ExitOneNamingKeysUri()
    {
        using var env = new CliTestEnvironment();
        var store = new Uri(env.StoreDir).AbsoluteUri;
        File.WriteAllText(env.ConfigPath, $$"""{ "Store": { "Uri": "{{store}}" }, "Keys": { "Uri": "{{store}}/keys" } }""");

        var (exit, _, err) = await Cli.RunAsync("backup", "list", "--config", env.ConfigPath);

        Assert.Equal(1, exit);
        Assert.Contains("Keys:Uri: ", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnknownCluster_ExitOneNamingKnownClusters()
    {
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["a"] = ["http://127.0.0.1:2379"] });

        var (exit, _, err) = await Cli.RunAsync("backup", "list", "--config", path, "--cluster", "b");

        Assert.Equal(1, exit);
        Assert.Contains("unknown cluster 'b' (known: a)", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DescribeMalformedId_ExitTwo()
    {
        using var env = new CliTestEnvironment();
        var path = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["a"] = ["http://127.0.0.1:2379"] });

        var (exit, _, err) = await Cli.RunAsync("backup", "describe", "not-an-id", "--config", path);

        Assert.Equal(2, exit);
        Assert.Contains("is not a backup reference", err, StringComparison.Ordinal);
    }
}
