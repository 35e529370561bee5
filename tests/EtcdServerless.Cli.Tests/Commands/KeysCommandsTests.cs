using System.Buffers.Text;
using System.Text.Json;

namespace EtcdServerless.Cli.Tests.Commands;

[Trait("Category", "Cli")]
public sealed class KeysCommandsTests
{
    [Fact]
    public async Task ApiKey_PrintsBase64UrlOf32RandomBytes_NewEachTime()
    {
        var (exit1, out1, err1) = await Cli.RunAsync("keys", "api-key");
        var (exit2, out2, _) = await Cli.RunAsync("keys", "api-key");

        Assert.Equal(0, exit1);
        Assert.Equal(0, exit2);
        Assert.Empty(err1);
        var key = out1.TrimEnd('\n', '\r');
        Assert.Equal(43, key.Length);
        Assert.All(key, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not base64url"));
        Assert.Equal(32, Base64Url.DecodeFromChars(key).Length);
        Assert.NotEqual(key, out2.TrimEnd('\n', '\r'));
    }

    [Fact]
    public async Task ApiKey_Json_PrintsTheKeyAsApiKey()
    {
        var (exit, output, _) = await Cli.RunAsync("keys", "api-key", "-o", "json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(43, json.RootElement.GetProperty("apiKey").GetString()!.Length);
    }

    [Fact]
    public async Task ApiKey_PrintedKey_IsAcceptedByServe()
    {
        var (_, output, _) = await Cli.RunAsync("keys", "api-key");

        Assert.Null(Workflows.Http.ApiKey.Check(output.Trim()));
    }
}
