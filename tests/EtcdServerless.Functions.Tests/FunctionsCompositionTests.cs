using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Workflows.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Functions.Tests;

/// <summary>The Function App's start-up composition from app settings (what Program.cs runs before the host starts).</summary>
public sealed class FunctionsCompositionTests : IDisposable
{
    private readonly TempDirectory _temp = new("fx-compose");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(null, "an API key is required")]
    [InlineData("", "an API key is required")]
    [InlineData("short-key-123", "has 13 characters, at least 32 are required")]
    [InlineData("0123456789abcdef0123456789abcde", "has 31 characters, at least 32 are required")]
    public async Task AddEtcdBackupFunctionsAsync_MissingOrShortApiKey_RefusesToStartNamingTheSetting(string? key, string expected)
    {
        var services = new ServiceCollection();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => services.AddEtcdBackupFunctionsAsync(Settings(key)));

        Assert.StartsWith("Api:ApiKey: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Api__ApiKey", ex.Message, StringComparison.Ordinal);
        if (!string.IsNullOrEmpty(key))
        {
            Assert.DoesNotContain(key, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AddEtcdBackupFunctionsAsync_GeneratedKey_IsTheKeyTheApiChecks()
    {
        var key = ApiKey.Generate();

        await using var provider = (await new ServiceCollection().AddEtcdBackupFunctionsAsync(Settings(key))).BuildServiceProvider();

        var apiKey = provider.GetRequiredService<ApiKey>();
        var request = new DefaultHttpContext().Request;
        request.Headers["x-functions-key"] = key;
        Assert.True(apiKey.IsPresentedBy(request));
        request.Headers["x-functions-key"] = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        Assert.False(apiKey.IsPresentedBy(request));
    }

    private IConfiguration Settings(string? apiKey) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Store:Uri"] = new Uri(_temp.Combine("store")).AbsoluteUri,
        ["Keys:Uri"] = new Uri(_temp.Combine("keys")).AbsoluteUri,
        ["Clusters:fx:Endpoints:0"] = "http://127.0.0.1:1",
        ["Api:ApiKey"] = apiKey,
    }).Build();
}
