namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class ServeCommandTests
{
    [Theory]
    [InlineData(null, "an API key is required")]
    [InlineData("   ", "an API key is required")]
    [InlineData("short-key-123", "has 13 characters, at least 32 are required")]
    [InlineData("0123456789abcdef0123456789abcde", "has 31 characters, at least 32 are required")]
    public async Task Serve_MissingOrShortApiKey_RefusesToStartNamingTheSetting(string? key, string expected)
    {
        using var env = new CliTestEnvironment();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:1"] }, key);

        // A guard, not a timing: with a key it accepts, serve would run until stopped and the test would hang.
        var (exit, output, err) = await Cli.RunAsync("serve", "--config", config).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(1, exit);
        Assert.Empty(output);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: Api:ApiKey: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Contains("etcd-backup keys api-key", line, StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(key))
        {
            // The bad key is a secret all the same: never echoed.
            Assert.DoesNotContain(key, line, StringComparison.Ordinal);
        }
    }
}
