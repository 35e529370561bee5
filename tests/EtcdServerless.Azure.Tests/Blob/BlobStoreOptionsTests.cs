using EtcdServerless.Azure.Blob;

namespace EtcdServerless.Azure.Tests.Blob;

[Trait("Category", "Azure")]
public sealed class BlobStoreOptionsTests
{
    [Fact]
    public void Parse_ProductionUri_TakesAccountFromHost()
    {
        var options = BlobStoreOptions.Parse(new Uri("https://acct.blob.core.windows.net/backups/prod/east"));

        Assert.Equal("acct", options.AccountName);
        Assert.Equal("backups", options.Container);
        Assert.Equal("prod/east/", options.Prefix);
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), options.AccountEndpoint);
        Assert.Equal("https://acct.blob.core.windows.net/backups/prod/east", options.Description);
    }

    [Fact]
    public void Parse_AzuriteUri_TakesAccountFromPath()
    {
        var options = BlobStoreOptions.Parse(new Uri("http://127.0.0.1:10000/devstoreaccount1/backups"));

        Assert.Equal("devstoreaccount1", options.AccountName);
        Assert.Equal("backups", options.Container);
        Assert.Equal("", options.Prefix);
        Assert.Equal("http://127.0.0.1:10000/devstoreaccount1", options.AccountEndpoint.ToString().TrimEnd('/'));
    }

    [Theory]
    [InlineData("ftp://acct.blob.core.windows.net/backups")]
    [InlineData("https://acct.blob.core.windows.net/")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1")]
    [InlineData("https://acct.blob.core.windows.net/Upper")]
    [InlineData("https://acct.blob.core.windows.net/a")]
    [InlineData("https://acct.blob.core.windows.net/bad--name")]
    public void Parse_BadUri_ThrowsFormatException(string uri)
    {
        Assert.Throws<FormatException>(() => BlobStoreOptions.Parse(new Uri(uri)));
    }

    [Fact]
    public void TryGetSas_SasUrl_ReturnsQuery_PlainUrl_ReturnsFalse()
    {
        Assert.True(BlobStoreOptions.TryGetSas(new Uri("https://a.blob.core.windows.net/c?sv=1&sig=abc"), out var sas));
        Assert.Equal("sv=1&sig=abc", sas);
        Assert.False(BlobStoreOptions.TryGetSas(new Uri("https://a.blob.core.windows.net/c"), out _));
    }

    [Fact]
    public void Validate_BadKnobs_Throw()
    {
        var options = BlobStoreOptions.Parse(new Uri("https://acct.blob.core.windows.net/backups"));

        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { BlockSize = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { MaxConcurrency = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { MaxBlocksInFlight = 0 }).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => (options with { ListPageSize = 5001 }).Validate());
        Assert.Throws<ArgumentException>(() => (options with { Prefix = "noslash" }).Validate());
    }

    [Theory]
    [InlineData("https://acct.blob.core.windows.net/backups/p", "https://acct.blob.core.windows.net/backups")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/backups", "http://127.0.0.1:10000/devstoreaccount1/backups")]
    public void ContainerUri_BothStyles_KeepsAccountSegmentAndDropsPrefix(string store, string expected)
    {
        Assert.Equal(expected, BlobStoreOptions.Parse(new Uri(store)).ContainerUri.AbsoluteUri);
    }

    [Fact]
    public void FromSharedKey_NotBase64_ThrowsWithoutEchoingKey()
    {
        var ex = Assert.Throws<ArgumentException>(() => BlobCredential.FromSharedKey("acct", "not base64 secret!"));

        Assert.DoesNotContain("secret!", ex.Message, StringComparison.Ordinal);
    }
}
