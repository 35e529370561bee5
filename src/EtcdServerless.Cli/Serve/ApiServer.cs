using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The HTTP API of <c>serve</c>, the same routes as the Function App: start backups and restores (202 plus a
/// status URL), read instance status and the catalog. Every <c>/api</c> route needs the API key in the
/// <c>x-api-key</c> (or <c>x-functions-key</c>) header or the <c>code</c> query parameter, as Functions keys.
/// </summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ApiServer(WebApplication app) => _app = app;

    /// <summary>The addresses Kestrel listens on (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses =>
        [.. (_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []).Select(a => new Uri(a))];

    /// <summary>Builds and starts the API on <paramref name="urls"/> (';'-separated; port 0 = any free port).</summary>
    /// <param name="operations">The product operations.</param>
    /// <param name="apiKey">The key callers must present.</param>
    /// <param name="urls">Listen URLs.</param>
    /// <param name="loggerFactory">Where request and host logs go.</param>
    /// <param name="configureServices">Extra services (e.g. the scheduler's hosted service).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ApiServer> StartAsync(
        IBackupOperations operations,
        string apiKey,
        string urls,
        ILoggerFactory loggerFactory,
        Action<IServiceCollection>? configureServices = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(ApiServer).Assembly.GetName().Name });
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        var key = Encoding.UTF8.GetBytes(apiKey);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) && !IsAuthorized(context.Request, key))
            {
                await ProblemAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                    "A valid API key is required in the x-api-key header or the code query parameter.").ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
        Map(app, operations);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new ApiServer(app);
    }

    /// <summary>Completes when the host stops (Ctrl+C or <paramref name="cancellationToken"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void Map(IEndpointRouteBuilder app, IBackupOperations operations)
    {
        app.MapPost("/api/clusters/{cluster}/backups", async (HttpContext context, string cluster) =>
        {
            if (!await KnownClusterAsync(context, operations, cluster).ConfigureAwait(false))
            {
                return;
            }

            var started = await operations.StartBackupAsync(cluster, "http", context.RequestAborted).ConfigureAwait(false);
            await AcceptedAsync(context, started.InstanceId, started.Deduplicated).ConfigureAwait(false);
        });

        app.MapGet("/api/clusters/{cluster}/backups", async (HttpContext context, string cluster) =>
        {
            if (!await KnownClusterAsync(context, operations, cluster).ConfigureAwait(false))
            {
                return;
            }

            var backups = await operations.ListBackupsAsync(cluster, context.RequestAborted).ConfigureAwait(false);
            await JsonAsync(context, StatusCodes.Status200OK, backups).ConfigureAwait(false);
        });

        app.MapPost("/api/clusters/{cluster}/restores", async (HttpContext context, string cluster) =>
        {
            if (!await KnownClusterAsync(context, operations, cluster).ConfigureAwait(false))
            {
                return;
            }

            var (request, errors) = await RestoreRequestReader.ReadAsync(context.Request, cluster, context.RequestAborted).ConfigureAwait(false);
            if (request is null)
            {
                await ProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid request", "The request body has invalid fields.", errors).ConfigureAwait(false);
                return;
            }

            Core.Orchestration.OrchestrationStartResult started;
            try
            {
                started = await operations.StartRestoreAsync(request, context.RequestAborted).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                // The orchestration input's own checks (e.g. no members to restore into) name their field.
                var field = ex.ParamName is null or "request" ? "members" : char.ToLowerInvariant(ex.ParamName[0]) + ex.ParamName[1..];
                await ProblemAsync(context, StatusCodes.Status400BadRequest, "Invalid request", "The request cannot be run.",
                    new Dictionary<string, string[]> { [field] = [ex.Message.Split(" (Parameter", 2)[0]] }).ConfigureAwait(false);
                return;
            }
            catch (InvalidOperationException ex)
            {
                await ProblemAsync(context, StatusCodes.Status409Conflict, "Restore not available", ex.Message).ConfigureAwait(false);
                return;
            }

            await AcceptedAsync(context, started.InstanceId, started.Deduplicated).ConfigureAwait(false);
        });

        app.MapGet("/api/instances/{id}", async (HttpContext context, string id) =>
        {
            var state = operations.GetInstance(id);
            if (state is null)
            {
                await ProblemAsync(context, StatusCodes.Status404NotFound, "Not found", $"No instance '{id}'.").ConfigureAwait(false);
                return;
            }

            // As Durable: 202 while the instance runs, 200 once it has completed or failed.
            await JsonAsync(context, state.IsRunning ? StatusCodes.Status202Accepted : StatusCodes.Status200OK, InstanceStatusResponse.From(state)).ConfigureAwait(false);
        });

        app.MapGet("/healthz", () => Results.Text("ok"));
    }

    private static async Task<bool> KnownClusterAsync(HttpContext context, IBackupOperations operations, string cluster)
    {
        if (operations.IsKnownCluster(cluster))
        {
            return true;
        }

        await ProblemAsync(context, StatusCodes.Status404NotFound, "Unknown cluster", $"No cluster '{cluster}' is configured.").ConfigureAwait(false);
        return false;
    }

    private static async Task AcceptedAsync(HttpContext context, string instanceId, bool deduplicated)
    {
        var request = context.Request;
        var statusUri = $"{request.Scheme}://{request.Host}{request.PathBase}/api/instances/{Uri.EscapeDataString(instanceId)}";
        context.Response.Headers.Location = statusUri;
        context.Response.Headers.RetryAfter = "2";
        await JsonAsync(context, StatusCodes.Status202Accepted, new CheckStatusResponse(instanceId, statusUri, deduplicated)).ConfigureAwait(false);
    }

    private static async Task JsonAsync<T>(HttpContext context, int status, T body, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await JsonSerializer.SerializeAsync(context.Response.Body, body, CliJson.Compact, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task ProblemAsync(HttpContext context, int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        JsonAsync(context, status, new ProblemBody($"https://httpstatuses.io/{status}", title, status, detail, errors), "application/problem+json");

    private static bool IsAuthorized(HttpRequest request, byte[] key)
    {
        string? presented = request.Headers["x-api-key"];
        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Headers["x-functions-key"];
        }

        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Query["code"];
        }

        return !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), key);
    }

    private sealed record ProblemBody(string Type, string Title, int Status, string Detail, IReadOnlyDictionary<string, string[]>? Errors);
}
