using System.Globalization;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Restore;
using Microsoft.AspNetCore.Http.Features;

namespace EtcdServerless.Agent.Drills;

/// <summary>
/// <c>POST /v1/drills?cluster=&amp;backupId=&amp;size=&amp;sha256=&amp;revision=&amp;totalKey=&amp;hash=&amp;etcdVersion=</c>, body the
/// plaintext snapshot: a restore drill on this host (<see cref="AgentDrillService"/>). Behind the same client
/// certificate check as every endpoint (mapped after it).
/// </summary>
internal static class AgentDrillEndpoints
{
    private const int MaxNameLength = 253;

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var service = new AgentDrillService(app.Services.GetRequiredService<AgentOptions>(), app.Services.GetRequiredService<ILoggerFactory>());
        app.Lifetime.ApplicationStopped.Register(service.Dispose);
        app.MapPost("/" + AgentDrillProtocol.Path, async (HttpContext context, CancellationToken ct) =>
        {
            DrillExpectation expected;
            try
            {
                expected = Read(context.Request.Query);
            }
            catch (FormatException ex)
            {
                return Results.Problem(statusCode: 400, title: "Bad request", detail: ex.Message);
            }

            // A snapshot is gigabytes: no body limit here; Content-Length must equal the expected size, which bounds it.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = null;
            }

            try
            {
                var answer = await service.RunAsync(expected, context.Request.Body, context.Request.ContentLength, ct).ConfigureAwait(false);
                return Results.Json(answer, AgentProtocol.Json);
            }
            catch (AgentRequestException ex)
            {
                return Results.Problem(statusCode: ex.StatusCode, title: ex.Title, detail: ex.Message);
            }
        });
    }

    private static DrillExpectation Read(IQueryCollection query)
    {
        string Text(string name, int max)
        {
            var value = query[name].ToString();
            return value.Length is > 0 && value.Length <= max ? value : throw new FormatException($"query parameter '{name}' is required (at most {max} characters)");
        }

        long Number(string name) =>
            long.TryParse(query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
                : throw new FormatException($"query parameter '{name}' must be a non-negative integer");

        var sha256 = Text("sha256", 64).ToLowerInvariant();
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
        {
            throw new FormatException("query parameter 'sha256' must be 64 hex digits");
        }

        var hash = Number("hash");
        return new DrillExpectation
        {
            Cluster = Text("cluster", MaxNameLength),
            BackupId = Text("backupId", MaxNameLength),
            Size = Number("size"),
            Sha256 = sha256,
            Revision = Number("revision"),
            TotalKey = Number("totalKey"),
            Hash = hash <= uint.MaxValue ? (uint)hash : throw new FormatException("query parameter 'hash' must be a 32-bit unsigned integer"),
            EtcdVersion = query["etcdVersion"].ToString() is { Length: <= 64 } version ? version : "",
        };
    }
}
