using System.Globalization;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.Restore;
using Microsoft.AspNetCore.Http.Features;

namespace EtcdServerless.Agent.Materialize;

/// <summary>
/// <c>POST /v1/materialize</c>: the body is a framed description and the plaintexts it announces
/// (<see cref="AgentMaterializeProtocol"/>), the answer the materialized snapshot (<see cref="AgentMaterializeService"/>).
/// Behind the same client certificate check as every endpoint (mapped after it).
/// </summary>
internal static class AgentMaterializeEndpoints
{
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var service = new AgentMaterializeService(app.Services.GetRequiredService<AgentOptions>(), app.Services.GetRequiredService<ILoggerFactory>());
        app.Lifetime.ApplicationStopped.Register(service.Dispose);
        app.MapPost("/" + AgentMaterializeProtocol.Path, async (HttpContext context, CancellationToken ct) =>
        {
            // A snapshot is gigabytes: no body limit here; Content-Length must equal what the description announces, which bounds it.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            try
            {
                await service.RunAsync(context.Request.Body, context.Request.ContentLength, (file, c) => SendAsync(context.Response, file, c), ct).ConfigureAwait(false);
                return Results.Empty;
            }
            catch (AgentRequestException ex)
            {
                // Read what is left of the body, so the caller, still sending, gets this answer instead of a reset
                // connection; only a body of announced length, which bounds what is read for nothing.
                if (context.Request.ContentLength is not null)
                {
                    await DiscardAsync(context.Request.Body, ct).ConfigureAwait(false);
                }

                return Results.Problem(statusCode: ex.StatusCode, title: ex.Title, detail: ex.Message);
            }
        });
    }

    private static async Task SendAsync(HttpResponse response, MaterializedFile file, CancellationToken cancellationToken)
    {
        response.StatusCode = 200;
        response.ContentType = "application/octet-stream";
        response.ContentLength = file.Size;
        response.Headers[AgentMaterializeProtocol.RevisionHeader] = file.Replay.Revision.ToString(CultureInfo.InvariantCulture);
        response.Headers[AgentMaterializeProtocol.ReplayedHeader] = file.Replay.RevisionsReplayed.ToString(CultureInfo.InvariantCulture);
        response.Headers[AgentProtocol.SnapshotSha256Header] = file.Sha256;
        var input = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (input.ConfigureAwait(false))
        {
            await input.CopyToAsync(response.Body, 1 << 20, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task DiscardAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = new byte[1 << 16];
            while (await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (IOException)
        {
            // The caller is gone; the answer will not reach it either way.
        }
    }
}
