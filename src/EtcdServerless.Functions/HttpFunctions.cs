using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Workflows.Http;
using EtcdServerless.Workflows.Instances;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace EtcdServerless.Functions;

/// <summary>
/// The HTTP triggers of docs/http-api.md. Anonymous at the Functions level: <see cref="BackupApi"/> checks the API
/// key itself (x-api-key, x-functions-key or ?code=), so both hosts accept the same credentials and answer the same
/// problem+json. Each call builds the API over the invocation's Durable client.
/// </summary>
internal sealed class HttpFunctions(EtcdBackupOptions options, BackupCatalog catalog, ApiKey apiKey, TimeProvider time)
{
    [Function("StartBackup")]
    public Task<IActionResult> StartBackupAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "clusters/{cluster}/backups")] HttpRequest request,
        string cluster,
        [DurableClient] DurableTaskClient client) =>
        RespondAsync(request, Api(client).StartBackupAsync(request, cluster));

    [Function("ListBackups")]
    public Task<IActionResult> ListBackupsAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "clusters/{cluster}/backups")] HttpRequest request,
        string cluster,
        [DurableClient] DurableTaskClient client) =>
        RespondAsync(request, Api(client).ListBackupsAsync(request, cluster));

    [Function("StartRestore")]
    public Task<IActionResult> StartRestoreAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "clusters/{cluster}/restores")] HttpRequest request,
        string cluster,
        [DurableClient] DurableTaskClient client) =>
        RespondAsync(request, Api(client).StartRestoreAsync(request, cluster));

    [Function("GetInstance")]
    public Task<IActionResult> GetInstanceAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "instances/{id}")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client) =>
        RespondAsync(request, Api(client).GetInstanceAsync(request, id));

    private BackupApi Api(DurableTaskClient client) => new(new WorkflowGateway(client, time), options, catalog, apiKey);

    // The contract answers with minimal-API results; they write the response themselves.
    private static async Task<IActionResult> RespondAsync(HttpRequest request, Task<IResult> result)
    {
        await (await result.ConfigureAwait(false)).ExecuteAsync(request.HttpContext).ConfigureAwait(false);
        return new EmptyResult();
    }
}
