using System.Security.Cryptography;
using System.Text;
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

        var (body, errors) = await RestoreRequestReader.ReadAsync(request, cluster, request.HttpContext.RequestAborted).ConfigureAwait(false);
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

/// <summary>The API key callers must present, compared in constant time.</summary>
internal sealed class ApiKey
{
    private readonly byte[] _key;

    public ApiKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _key = Encoding.UTF8.GetBytes(key);
    }

    /// <summary>True when the request carries the key in <c>x-api-key</c>, <c>x-functions-key</c> or <c>?code=</c>.</summary>
    public bool IsPresentedBy(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? presented = request.Headers["x-api-key"];
        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Headers["x-functions-key"];
        }

        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Query["code"];
        }

        return !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _key);
    }
}
