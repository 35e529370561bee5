using EtcdServerless.Workflows.Http;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// Makes the host's own refusals answer in the API's one error shape: URL and body limits checked before routing
/// (414, 413), Kestrel's <see cref="BadHttpRequestException"/> turned into its status, and every other empty error
/// (the router's 404 and 405) given a problem+json body by the status-code-pages handler.
/// </summary>
internal sealed class ProblemResponses(ApiServerLimits limits, ILogger logger)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        // The raw target is what the client sent, before decoding: the length that costs us to route and log.
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        if (target.Length > limits.MaxUrlLength)
        {
            await RefuseAsync(context, StatusCodes.Status414UriTooLong, "URI too long", $"The path and query are limited to {limits.MaxUrlLength} characters.").ConfigureAwait(false);
            return;
        }

        if (context.Request.ContentLength > limits.MaxRequestBodyBytes)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The request body is limited to {limits.MaxRequestBodyBytes} bytes.").ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            // Kestrel's limits while the body is read (a chunked body over the limit, a malformed chunk).
            context.Response.Clear();
            await RefuseAsync(context, ex.StatusCode, BackupApi.ReasonTitle(ex.StatusCode), ex.Message).ConfigureAwait(false);
        }
    }

    /// <summary>The status-code-pages handler: a problem+json body for an error status that has none.</summary>
    public static Task WriteEmptyStatusAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound => "No route matches this path (see docs/http-api.md).",
            StatusCodes.Status405MethodNotAllowed => $"This route does not accept this method; allowed: {http.Response.Headers.Allow}.",
            _ => BackupApi.ReasonTitle(status),
        };
        return BackupApi.Problem(status, BackupApi.ReasonTitle(status), detail).ExecuteAsync(http);
    }

    private Task RefuseAsync(HttpContext context, int status, string title, string detail)
    {
        logger.RequestRefused(context.Request.Method, status, title);
        // The unread rest of a refused body is not drained: the connection closes after the answer (HTTP/1.x;
        // HTTP/2 has no connection header and resets the stream instead).
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            context.Response.Headers.Connection = "close";
        }
        return BackupApi.Problem(status, title, detail).ExecuteAsync(context);
    }
}
