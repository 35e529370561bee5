using System.Security.Cryptography;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Control;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Restore;
using Microsoft.AspNetCore.Http.Features;

namespace EtcdServerless.Agent.Bundles;

/// <summary>
/// <c>GET /v1/bundle</c> (the control-plane files of <c>Agent:Bundle:Paths</c> as a tar) and
/// <c>PUT /v1/restores/{id}/bundle</c> (put a bundle back after the data dir was restored, before the member starts),
/// behind the agent's mutual TLS. Both stage the archive in a private, already-unlinked temp file: the whole archive
/// is checked (size, SHA-256, every entry) before a byte is served or written.
/// </summary>
internal static class BundleEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/v1/bundle", async (HttpContext context, AgentOptions options, ILogger<BundleOptions> logger, CancellationToken ct) =>
        {
            var roots = BundleArchive.Roots(options.Bundle);
            if (roots.Count == 0)
            {
                return Results.Problem(statusCode: 404, title: "Not found", detail: "this agent serves no bundle: Agent:Bundle:Paths is empty");
            }

            var staged = PrivateTempFiles.Create(null, "bundle");
            try
            {
                var entries = await BundleArchive.WriteAsync(roots, options.Bundle.MaxBytes, staged, ct).ConfigureAwait(false);
                staged.Position = 0;
                var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(staged, ct).ConfigureAwait(false));
                staged.Position = 0;
                Log.BundleServed(logger, entries, staged.Length, string.Join(", ", roots));
                context.Response.Headers[AgentProtocol.BundleSha256Header] = sha;
                return Results.Stream(staged, "application/x-tar");
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                await staged.DisposeAsync().ConfigureAwait(false);
                return Results.Problem(statusCode: 500, title: "Bundle failed", detail: ex.Message);
            }
        });

        app.MapPut("/v1/restores/{restoreId}/bundle", async (string restoreId, HttpContext context, AgentOptions options, RestoreService restores,
            IMemberControl control, ILogger<BundleOptions> logger, CancellationToken ct) =>
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = options.Bundle.MaxBytes + (16L << 20);
            }

            try
            {
                var expected = context.Request.Headers[AgentProtocol.BundleSha256Header].FirstOrDefault()?.Trim().ToLowerInvariant();
                if (expected is not { Length: 64 } || !expected.All(char.IsAsciiHexDigit))
                {
                    throw AgentRequestException.BadRequest($"the {AgentProtocol.BundleSha256Header} header (SHA-256 of the tar, hex) is required");
                }

                var entries = await restores.ExclusiveAsync(async () =>
                {
                    var status = await restores.GetAsync(restoreId, ct).ConfigureAwait(false);
                    if (status.State != AgentRestoreState.Restored || await control.IsRunningAsync(ct).ConfigureAwait(false))
                    {
                        throw AgentRequestException.Conflict($"restore {restoreId} is {status.State}: a bundle goes back after the data dir was restored and before the member starts");
                    }

                    var staged = PrivateTempFiles.Create(null, "bundle-in");
                    await using (staged.ConfigureAwait(false))
                    {
                        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        var buffer = new byte[1 << 16];
                        int read;
                        while ((read = await context.Request.Body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                        {
                            sha.AppendData(buffer, 0, read);
                            await staged.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                        }

                        var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
                        if (actual != expected)
                        {
                            throw AgentRequestException.BadRequest($"bundle SHA-256 mismatch: expected {expected}, received {actual} ({staged.Length} bytes)");
                        }

                        await staged.FlushAsync(ct).ConfigureAwait(false);
                        return await BundleArchive.ExtractAsync(staged, BundleArchive.Roots(options.Bundle), options.Bundle.MaxBytes, ct).ConfigureAwait(false);
                    }
                }, ct).ConfigureAwait(false);
                Log.BundleRestored(logger, restoreId, entries, string.Join(", ", options.Bundle.Paths));
                return Results.Json(new AgentBundleResult { RestoreId = restoreId, Entries = entries }, AgentProtocol.Json);
            }
            catch (AgentRequestException ex)
            {
                return Results.Problem(statusCode: ex.StatusCode, title: ex.Title, detail: ex.Message);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                return Results.Problem(statusCode: 500, title: "Bundle failed", detail: ex.Message);
            }
        });
    }
}
