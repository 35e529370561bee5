using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Workflows.Instances;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;

namespace EtcdServerless.Workflows.Http;

/// <summary>
/// The HTTP contract of docs/http-api.md, written once: <c>serve</c> maps its routes here and the Function App's
/// HTTP triggers call the same methods. Every method checks the API key (<c>x-api-key</c>, <c>x-functions-key</c>
/// or <c>code</c>), answers errors as problem+json and starts work only through <see cref="WorkflowGateway"/>.
/// </summary>
internal sealed class BackupApi(WorkflowGateway gateway, EtcdBackupOptions options, BackupCatalog catalog, ApiKey apiKey)
{
    /// <summary>The key every route checks (hosts use it to throttle wrong keys before the routes run).</summary>
    public ApiKey Key => apiKey;

    /// <summary>The largest request body read (a restore request is well under 1 KiB); a longer one gets 413.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    // Long path values are cut in messages: they are echoed, and an echo must not amplify a request.
    private const int MaxEchoLength = 64;

    /// <summary><c>POST /api/clusters/{cluster}/backups</c>.</summary>
    public async Task<IResult> StartBackupAsync(HttpRequest request, string cluster)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Refuse(request, cluster) is { } refused)
        {
            return refused;
        }

        var started = await gateway.StartBackupAsync(cluster, BackupTrigger.OnDemand, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return Accepted(request, started);
    }

    /// <summary><c>GET /api/clusters/{cluster}/backups</c>.</summary>
    public async Task<IResult> ListBackupsAsync(HttpRequest request, string cluster)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Refuse(request, cluster) is { } refused)
        {
            return refused;
        }

        var backups = await catalog.ListAsync(cluster, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(backups, OrchestrationJson.Options, "application/json", StatusCodes.Status200OK);
    }

    /// <summary><c>POST /api/clusters/{cluster}/restores</c>.</summary>
    public async Task<IResult> StartRestoreAsync(HttpRequest request, string cluster)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Refuse(request, cluster) is { } refused)
        {
            return refused;
        }

        byte[]? raw;
        try
        {
            raw = await RestoreRequestReader.ReadBodyAsync(request, MaxBodyBytes, request.HttpContext.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex)
        {
            // The host's own limits (Kestrel's body size, a malformed chunk) surface while reading.
            return Problem(ex.StatusCode, ReasonTitle(ex.StatusCode), ex.Message);
        }

        if (raw is null)
        {
            return BodyTooLarge();
        }

        var (body, errors) = RestoreRequestReader.Read(raw, cluster);
        if (body is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", "The request body has invalid fields.", errors);
        }

        Core.Restore.RestoreRequest restore;
        try
        {
            restore = RestoreRequests.Create(options, body);
        }
        catch (ArgumentException ex)
        {
            // The orchestration input's own checks (e.g. no members to restore into) name their field.
            var field = ex.ParamName is null or "request" ? "members" : char.ToLowerInvariant(ex.ParamName[0]) + ex.ParamName[1..];
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", "The request cannot be run.",
                new Dictionary<string, string[]> { [field] = [ex.Message.Split(" (Parameter", 2)[0]] });
        }

        // Bad input is reported first (400, naming the field), whatever this host can run.
        if (!RestoreRequests.AreConfigured(options))
        {
            return Problem(StatusCodes.Status409Conflict, "Restore not available", RestoreRequests.NotConfiguredMessage);
        }

        var started = await gateway.StartRestoreAsync(restore, request.HttpContext.RequestAborted).ConfigureAwait(false);
        return started.Conflict is { } conflict
            ? Problem(StatusCodes.Status409Conflict, "Restore already running", conflict)
            : Accepted(request, started);
    }

    /// <summary><c>GET /api/instances/{id}</c>: 202 while it runs, 200 once completed or failed.</summary>
    public async Task<IResult> GetInstanceAsync(HttpRequest request, string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!apiKey.IsPresentedBy(request))
        {
            return Unauthorized();
        }

        var state = await gateway.GetInstanceAsync(id, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (state is null || state.Name == GateOrchestrator.OrchestratorName)
        {
            return Problem(StatusCodes.Status404NotFound, "Not found", $"No instance '{Echo(id)}'.");
        }

        return TypedResults.Json(InstanceStatusResponse.From(state), OrchestrationJson.Options, "application/json",
            WorkflowGateway.IsRunning(state) ? StatusCodes.Status202Accepted : StatusCodes.Status200OK);
    }

    /// <summary>A problem+json result (RFC 9457), the one error shape of the API.</summary>
    public static IResult Problem(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        TypedResults.Json(new ProblemBody($"https://httpstatuses.io/{status}", title, status, detail, errors), OrchestrationJson.Options, "application/problem+json", status);

    /// <summary>413 with the limit named.</summary>
    public static IResult BodyTooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The request body is limited to {MaxBodyBytes} bytes.");

    /// <summary>The standard phrase of <paramref name="status"/> as a problem title ("Not Found", "Method Not Allowed"...).</summary>
    public static string ReasonTitle(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";

    private IResult? Refuse(HttpRequest request, string cluster)
    {
        if (!apiKey.IsPresentedBy(request))
        {
            return Unauthorized();
        }

        return options.Clusters.ContainsKey(cluster)
            ? null
            : Problem(StatusCodes.Status404NotFound, "Unknown cluster", $"No cluster '{Echo(cluster)}' is configured.");
    }

    private static IResult Unauthorized() =>
        Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "A valid API key is required in the x-api-key header or the code query parameter.");

    private static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<CheckStatusResponse> Accepted(HttpRequest request, StartOutcome started)
    {
        var statusUri = $"{request.Scheme}://{request.Host}{request.PathBase}/api/instances/{Uri.EscapeDataString(started.InstanceId)}";
        request.HttpContext.Response.Headers.Location = statusUri;
        request.HttpContext.Response.Headers.RetryAfter = "2";
        return TypedResults.Json(new CheckStatusResponse(started.InstanceId, statusUri, started.Deduplicated), OrchestrationJson.Options, "application/json", StatusCodes.Status202Accepted);
    }

    private static string Echo(string value) => value.Length <= MaxEchoLength ? value : string.Concat(value.AsSpan(0, MaxEchoLength), "...");

    private sealed record ProblemBody(string Type, string Title, int Status, string Detail, IReadOnlyDictionary<string, string[]>? Errors);
}
