using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.DataDirs;

/// <summary>
/// <c>GET /v1/data-dirs</c> and <c>DELETE /v1/data-dirs/{name}</c>: the member's kept data dirs, behind the same mutual
/// TLS as every agent endpoint, and under the restore lock so a removal never races a swap.
/// </summary>
internal static class DataDirEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/v1/data-dirs", (AgentOptions options, RestoreService restores, CancellationToken ct) =>
            RunAsync(() => restores.ExclusiveAsync(() => new DataDirCatalog(options.DataDir).List(), ct)));
        app.MapDelete("/v1/data-dirs/{name}", (string name, AgentOptions options, RestoreService restores, ILogger<DataDirCatalog> logger, CancellationToken ct) =>
            RunAsync(() => restores.ExclusiveAsync(() =>
            {
                var removed = new DataDirCatalog(options.DataDir).Remove(name);
                Log.RemovedDataDir(logger, removed.Path, "agent API");
                return removed;
            }, ct)));
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
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Results.Problem(statusCode: 500, title: "Step failed", detail: ex.Message);
        }
    }
}
