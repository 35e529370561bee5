using EtcdServerless.Agent.Restores;
using EtcdServerless.Agent.Security;
using EtcdServerless.Core.Restore;
using Microsoft.AspNetCore.Http.Features;

namespace EtcdServerless.Agent.Http;

/// <summary>The agent's HTTP API (JSON; problem+json on refusal). Every restore endpoint is idempotent per restore id.</summary>
internal static class AgentEndpoints
{
    public static void Map(WebApplication app)
    {
        // Defence in depth behind the TLS handshake check: no validated certificate, no endpoint.
        app.Use(async (context, next) =>
        {
            var validator = context.RequestServices.GetRequiredService<ClientCertificateValidator>();
            var reason = validator.Check(context.Connection.ClientCertificate);
            if (reason is not null)
            {
                await Results.Problem(statusCode: 403, title: "Forbidden", detail: $"client certificate refused: {reason}").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });

        app.MapGet("/v1/preflight", (long? snapshotSize, RestoreService service, CancellationToken ct) =>
            RunAsync(() => service.PreflightAsync(snapshotSize ?? 0, ct)));
        app.MapGet("/v1/restores/{restoreId}", (string restoreId, RestoreService service, CancellationToken ct) =>
            RunAsync(() => service.GetAsync(restoreId, ct)));
        app.MapPost("/v1/restores/{restoreId}/stop", (string restoreId, RestoreService service, CancellationToken ct) =>
            RunAsync(() => service.StopAsync(restoreId, ct)));
        app.MapPut("/v1/restores/{restoreId}/snapshot", (string restoreId, HttpContext context, RestoreService service, CancellationToken ct) =>
        {
            // Snapshots are gigabytes: no body size limit on this one endpoint; the body is streamed to disk.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            return RunAsync(() => service.ReceiveSnapshotAsync(
                restoreId,
                context.Request.Body,
                context.Request.Headers[AgentProtocol.SnapshotSha256Header].FirstOrDefault(),
                context.Request.Headers[AgentProtocol.SnapshotDbSha256Header].FirstOrDefault(),
                context.Request.ContentLength,
                ct));
        });
        app.MapPost("/v1/restores/{restoreId}/restore", async (string restoreId, HttpContext context, RestoreService service, CancellationToken ct) =>
        {
            MemberRestoreRequest? request;
            try
            {
                request = await context.Request.ReadFromJsonAsync<MemberRestoreRequest>(AgentProtocol.Json, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Results.Problem(statusCode: 400, title: "Bad request", detail: $"body must be a JSON restore request: {ex.Message}");
            }

            return request is null
                ? Results.Problem(statusCode: 400, title: "Bad request", detail: "body must be a JSON restore request")
                : await RunAsync(() => service.RestoreAsync(restoreId, request, ct)).ConfigureAwait(false);
        });
        app.MapPost("/v1/restores/{restoreId}/start", (string restoreId, RestoreService service, CancellationToken ct) =>
            RunAsync(() => service.StartAsync(restoreId, ct)));
        app.MapPost("/v1/restores/{restoreId}/rollback", (string restoreId, RestoreService service, CancellationToken ct) =>
            RunAsync(() => service.RollbackAsync(restoreId, ct)));
        Drills.AgentDrillEndpoints.Map(app);
        Materialize.AgentMaterializeEndpoints.Map(app);
    }

    private static async Task<IResult> RunAsync<T>(Func<Task<T>> body)
    {
        try
        {
            return Results.Json(await body().ConfigureAwait(false), AgentProtocol.Json);
        }
        catch (AgentRequestException ex)
        {
            return Results.Problem(statusCode: ex.StatusCode, title: ex.Title, detail: ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Results.Problem(statusCode: 500, title: "Step failed", detail: ex.Message);
        }
    }
}
