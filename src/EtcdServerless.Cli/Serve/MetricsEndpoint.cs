using EtcdServerless.Core.Monitoring;
using EtcdServerless.Workflows.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// <c>serve</c>'s <c>/metrics</c>: the product's meter (<see cref="BackupMetrics.MeterName"/>) in Prometheus text
/// format through OpenTelemetry's Prometheus exporter (docs/architecture.md "Metrics" says why this exporter). On the
/// API's listener the endpoint wants the API key (<c>x-api-key</c>, or <c>Authorization: Bearer</c> as a Prometheus
/// scrape job sends it); on the optional <c>Api:MetricsUrls</c> listener, meant for a private interface or port, it
/// answers without one and nothing else is served there.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    private readonly MeterProvider _provider = Sdk.CreateMeterProviderBuilder()
        .ConfigureResource(r => r.AddService("etcd-backup"))
        .AddMeter(BackupMetrics.MeterName)
        // The scope labels would repeat the one meter's name on every series.
        .AddPrometheusExporter(o => o.ScopeInfoEnabled = false)
        .Build();

    /// <summary>Maps <see cref="Path"/> behind the API key (the API's listener).</summary>
    public static void MapWithKey(WebApplication app, ApiKey key)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(key);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path, StringComparison.OrdinalIgnoreCase)
                && !key.IsPresentedBy(context.Request) && !key.IsPresentedAsBearer(context.Request))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await BackupApi.Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
                    "A valid API key is required for /metrics: x-api-key, or Authorization: Bearer (or scrape the Api:MetricsUrls listener).").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }

    /// <summary>Maps the scrape endpoint itself (after routing is set up).</summary>
    public void MapScrape(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(Path, _provider, configureBranchedPipeline: null, optionsName: null);

    public void Dispose() => _provider.Dispose();
}
