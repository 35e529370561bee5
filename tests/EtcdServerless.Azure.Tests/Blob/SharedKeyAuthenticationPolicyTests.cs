using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using EtcdServerless.Azure.Blob;

namespace EtcdServerless.Azure.Tests.Blob;

[Trait("Category", "Azure")]
public sealed class SharedKeyAuthenticationPolicyTests
{
    [Fact]
    public void BuildStringToSign_FullRequest_FollowsTheSharedKeyLayout()
    {
        var request = new HttpPipeline(new HttpClientTransport()).CreateRequest();
        request.Method = RequestMethod.Put;
        request.Uri.Reset(new Uri("https://acct.blob.core.windows.net/container/a%20b/c"));
        request.Uri.AppendQuery("restype", "container");
        request.Uri.AppendQuery("COMP", "list");
        request.Uri.AppendQuery("include", "tags");
        request.Uri.AppendQuery("include", "metadata");
        request.Headers.SetValue("Content-Type", "application/xml");
        request.Headers.SetValue("If-None-Match", "*");
        request.Headers.SetValue("x-ms-version", "2025-05-05");
        request.Headers.SetValue("X-MS-Meta-A", "  one   two ");
        request.Headers.SetValue("x-ms-date", "Sat, 21 Nov 2026 10:00:00 GMT");
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes("hello world"));

        var stringToSign = SharedKeyAuthenticationPolicy.BuildStringToSign(request, "acct");

        Assert.Equal(
            "PUT\n\n\n11\n\napplication/xml\n\n\n\n*\n\n\n" +
            "x-ms-date:Sat, 21 Nov 2026 10:00:00 GMT\nx-ms-meta-a:one two\nx-ms-version:2025-05-05\n" +
            "/acct/container/a%20b/c\ncomp:list\ninclude:metadata,tags\nrestype:container",
            stringToSign);
    }

    [Fact]
    public void BuildStringToSign_EmptyBody_SignsEmptyContentLength()
    {
        var request = new HttpPipeline(new HttpClientTransport()).CreateRequest();
        request.Method = RequestMethod.Head;
        request.Uri.Reset(new Uri("http://127.0.0.1:10000/devstoreaccount1/c/b"));

        var stringToSign = SharedKeyAuthenticationPolicy.BuildStringToSign(request, "devstoreaccount1");

        Assert.Equal("HEAD\n\n\n\n\n\n\n\n\n\n\n\n/devstoreaccount1/devstoreaccount1/c/b", stringToSign);
    }
}
