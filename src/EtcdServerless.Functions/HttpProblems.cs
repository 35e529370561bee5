using System.Net;
using Microsoft.Azure.Functions.Worker.Http;

namespace EtcdServerless.Functions;

/// <summary>problem+json answers naming the offending field, the same shape <c>etcd-backup serve</c> returns.</summary>
internal static class HttpProblems
{
    public static async Task<HttpResponseData> WriteAsync(HttpRequestData request, HttpStatusCode status, string field, string detail)
    {
        var response = request.CreateResponse(status);
        await response.WriteAsJsonAsync(new { type = "about:blank", title = "Invalid request", status = (int)status, detail, field }).ConfigureAwait(false);
        response.Headers.Remove("Content-Type");
        response.Headers.Add("Content-Type", "application/problem+json");
        return response;
    }
}
