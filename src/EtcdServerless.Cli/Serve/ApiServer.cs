using EtcdServerless.Workflows.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The HTTP host of <c>serve</c>: Kestrel routes to <see cref="BackupApi"/>, the contract the Function App's HTTP
/// triggers call too (docs/http-api.md).
/// </summary>
internal sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FailedKeyThrottle _throttle;
    private readonly MetricsEndpoint _metrics;
    private readonly WebApplication? _metricsApp;

    private ApiServer(WebApplication app, FailedKeyThrottle throttle, MetricsEndpoint metrics, WebApplication? metricsApp)
    {
        _app = app;
        _throttle = throttle;
        _metrics = metrics;
        _metricsApp = metricsApp;
    }

    /// <summary>The addresses Kestrel listens on (with the real port when 0 was asked for).</summary>
    public IReadOnlyList<Uri> Addresses => AddressesOf(_app);

    /// <summary>The addresses of the key-less metrics listener (<c>Api:MetricsUrls</c>); empty when there is none.</summary>
    public IReadOnlyList<Uri> MetricsAddresses => _metricsApp is null ? [] : AddressesOf(_metricsApp);

    private static List<Uri> AddressesOf(WebApplication app) =>
        [.. (app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []).Select(a => new Uri(a))];

    /// <summary>Builds and starts the API on <paramref name="urls"/> (';'-separated; port 0 = any free port).</summary>
    /// <param name="api">The HTTP contract.</param>
    /// <param name="urls">Listen URLs.</param>
    /// <param name="loggerFactory">Where request and host logs go.</param>
    /// <param name="configureServices">Extra services (e.g. the scheduler's hosted service).</param>
    /// <param name="limits">Request limits and the wrong-key throttle (default: <see cref="ApiServerLimits"/>'s).</param>
    /// <param name="metricsUrls">Listen URLs of a second listener serving only <c>/metrics</c>, without the key (null = none).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<ApiServer> StartAsync(
        BackupApi api,
        string urls,
        ILoggerFactory loggerFactory,
        Action<IServiceCollection>? configureServices = null,
        ApiServerLimits? limits = null,
        string? metricsUrls = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        limits ??= new ApiServerLimits();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(ApiServer).Assembly.GetName().Name });
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineBytes;
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        configureServices?.Invoke(builder.Services);
        var logger = loggerFactory.CreateLogger("EtcdServerless.Cli.Serve.ApiServer");
        var throttle = new FailedKeyThrottle(api.Key, limits, logger);
        var metrics = new MetricsEndpoint();
        var app = builder.Build();

        // Outermost first: every error below (router's 404/405, limits, throttle, the contract's own) leaves as problem+json.
        app.UseStatusCodePages(ProblemResponses.WriteEmptyStatusAsync);
        var problems = new ProblemResponses(limits, logger);
        app.Use((context, next) => problems.InvokeAsync(context, next));
        app.Use((context, next) => throttle.InvokeAsync(context, next));
        MetricsEndpoint.MapWithKey(app, api.Key);
        app.UseRouting();
        metrics.MapScrape(app);
        app.MapPost("/api/clusters/{cluster}/backups", (HttpRequest request, string cluster) => api.StartBackupAsync(request, cluster));
        app.MapGet("/api/clusters/{cluster}/backups", (HttpRequest request, string cluster) => api.ListBackupsAsync(request, cluster));
        app.MapPost("/api/clusters/{cluster}/restores", (HttpRequest request, string cluster) => api.StartRestoreAsync(request, cluster));
        app.MapGet("/api/instances/{id}", (HttpRequest request, string id) => api.GetInstanceAsync(request, id));
        app.MapGet("/healthz", () => Results.Text("ok"));
        WebApplication? metricsApp = null;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            if (!string.IsNullOrWhiteSpace(metricsUrls))
            {
                metricsApp = BuildMetricsListener(metricsUrls, metrics);
                await metricsApp.StartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            if (metricsApp is not null)
            {
                await metricsApp.DisposeAsync().ConfigureAwait(false);
            }

            await app.DisposeAsync().ConfigureAwait(false);
            throttle.Dispose();
            metrics.Dispose();
            throw;
        }

        return new ApiServer(app, throttle, metrics, metricsApp);
    }

    // A listener for a private interface or port: /metrics without the key, /healthz, nothing else.
    private static WebApplication BuildMetricsListener(string urls, MetricsEndpoint metrics)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(ApiServer).Assembly.GetName().Name });
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseRouting();
        metrics.MapScrape(app);
        app.MapGet("/healthz", () => Results.Text("ok"));
        return app;
    }

    /// <summary>Completes when the host stops (Ctrl+C or <paramref name="cancellationToken"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_metricsApp is not null)
            {
                await _metricsApp.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            if (_metricsApp is not null)
            {
                await _metricsApp.DisposeAsync().ConfigureAwait(false);
            }

            await _app.DisposeAsync().ConfigureAwait(false);
            _throttle.Dispose();
            _metrics.Dispose();
        }
    }
}
