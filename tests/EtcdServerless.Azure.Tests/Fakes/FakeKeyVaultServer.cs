using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Azure.Tests.Fakes;

/// <summary>
/// A FAKE Azure Key Vault (no emulator runs here): a Kestrel HTTPS server on loopback with a self-signed
/// certificate implementing just the secrets REST surface <see cref="SecretClient"/> uses: the 401 bearer
/// challenge, set secret (PUT, a new version each time), get secret (latest or by version) and list versions
/// (paged with nextLink). Any bearer token is accepted; <see cref="ForbidAll"/> makes it answer 403.
/// </summary>
internal sealed class FakeKeyVaultServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, List<StoredVersion>> _secrets = new(StringComparer.OrdinalIgnoreCase);
    private int _challenges;
    private int _authorizedRequests;

    private FakeKeyVaultServer(WebApplication app, X509Certificate2 certificate, Uri vaultUri)
    {
        _app = app;
        _certificate = certificate;
        VaultUri = vaultUri;
    }

    /// <summary>The vault URI, e.g. <c>https://127.0.0.1:PORT/</c>.</summary>
    public Uri VaultUri { get; }

    /// <summary>When true every authenticated request gets 403 Forbidden.</summary>
    public bool ForbidAll { get; set; }

    /// <summary>Versions per page of the list-versions answer (small to exercise nextLink paging).</summary>
    public int PageSize { get; set; } = 2;

    /// <summary>How many 401 challenges were sent.</summary>
    public int Challenges => _challenges;

    /// <summary>How many requests carried a bearer token.</summary>
    public int AuthorizedRequests => _authorizedRequests;

    public static async Task<FakeKeyVaultServer> StartAsync()
    {
        var certificate = CreateCertificate();
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(certificate)));
        var app = builder.Build();
        var server = new FakeKeyVaultServer(app, certificate, new Uri($"https://127.0.0.1:{port}/"));
        app.Run(server.HandleAsync);
        await app.StartAsync();
        return server;
    }

    /// <summary>A <see cref="SecretClient"/> that trusts exactly this server's certificate.</summary>
    public SecretClient CreateClient(FakeTokenCredential credential)
    {
        var thumbprint = _certificate.Thumbprint;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == thumbprint,
        };
        var options = new SecretClientOptions
        {
            DisableChallengeResourceVerification = true,
            Transport = new HttpClientTransport(handler),
        };
        options.Retry.MaxRetries = 0;
        return new SecretClient(VaultUri, credential, options);
    }

    /// <summary>Stores a version directly (e.g. a secret with a foreign content type).</summary>
    public string Seed(string name, string value, string? contentType)
    {
        var version = Guid.NewGuid().ToString("N");
        _secrets.GetOrAdd(name, _ => []).Add(new StoredVersion(version, value, contentType, DateTimeOffset.UtcNow));
        return version;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=fake-key-vault", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(2));
        // Round-trip through PFX so Kestrel gets a certificate with a usable private key on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var auth = context.Request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _challenges);
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate =
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://vault.azure.net\"";
            return;
        }

        Interlocked.Increment(ref _authorizedRequests);
        if (ForbidAll)
        {
            await ErrorAsync(context, 403, "Forbidden", "The user, group or application does not have secrets get permission.");
            return;
        }

        // /secrets/{name}[/{version}|/versions]
        var parts = (context.Request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || parts[0] != "secrets")
        {
            await ErrorAsync(context, 400, "BadParameter", "Unsupported path.");
            return;
        }

        var name = parts[1];
        var method = context.Request.Method;
        if (method == "PUT" && parts.Length == 2)
        {
            var body = await JsonNode.ParseAsync(context.Request.Body) ?? throw new InvalidDataException("empty body");
            var version = Guid.NewGuid().ToString("N");
            var stored = new StoredVersion(version, (string?)body["value"] ?? "", (string?)body["contentType"], DateTimeOffset.UtcNow);
            var list = _secrets.GetOrAdd(name, _ => []);
            lock (list)
            {
                list.Add(stored);
            }

            await WriteJsonAsync(context, 200, Bundle(context, name, stored, includeValue: true));
            return;
        }

        if (method == "GET" && parts.Length == 3 && parts[2] == "versions")
        {
            await ListVersionsAsync(context, name);
            return;
        }

        if (method == "GET" && parts.Length is 2 or 3)
        {
            var found = Find(name, parts.Length == 3 ? parts[2] : null);
            if (found is null)
            {
                await ErrorAsync(context, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
                return;
            }

            await WriteJsonAsync(context, 200, Bundle(context, name, found, includeValue: true));
            return;
        }

        await ErrorAsync(context, 405, "MethodNotAllowed", $"{method} is not supported by the fake.");
    }

    private async Task ListVersionsAsync(HttpContext context, string name)
    {
        StoredVersion[] all;
        if (!_secrets.TryGetValue(name, out var list))
        {
            await ErrorAsync(context, 404, "SecretNotFound", $"A secret with (name/id) {name} was not found in this key vault.");
            return;
        }

        lock (list)
        {
            all = [.. list];
        }

        var skip = int.TryParse(context.Request.Query["$skiptoken"], out var s) ? s : 0;
        var page = all.Skip(skip).Take(PageSize).ToArray();
        var result = new JsonObject
        {
            ["value"] = new JsonArray([.. page.Select(v => (JsonNode)Bundle(context, name, v, includeValue: false))]),
        };
        if (skip + PageSize < all.Length)
        {
            result["nextLink"] = $"{VaultUri}secrets/{name}/versions?api-version={context.Request.Query["api-version"]}&$skiptoken={skip + PageSize}";
        }

        await WriteJsonAsync(context, 200, result);
    }

    private StoredVersion? Find(string name, string? version)
    {
        if (!_secrets.TryGetValue(name, out var list))
        {
            return null;
        }

        lock (list)
        {
            return string.IsNullOrEmpty(version) ? list.LastOrDefault() : list.FirstOrDefault(v => v.Version == version);
        }
    }

    private JsonObject Bundle(HttpContext context, string name, StoredVersion version, bool includeValue)
    {
        var created = version.Created.ToUnixTimeSeconds();
        var bundle = new JsonObject
        {
            ["id"] = $"{VaultUri}secrets/{name}/{version.Version}",
            ["attributes"] = new JsonObject
            {
                ["enabled"] = true,
                ["created"] = created,
                ["updated"] = created,
                ["recoveryLevel"] = "Recoverable+Purgeable",
            },
            ["tags"] = new JsonObject(),
        };
        if (version.ContentType is not null)
        {
            bundle["contentType"] = version.ContentType;
        }

        if (includeValue)
        {
            bundle["value"] = version.Value;
        }

        _ = context;
        return bundle;
    }

    private static Task ErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteJsonAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions()));
    }

    private sealed record StoredVersion(string Version, string Value, string? ContentType, DateTimeOffset Created);
}

/// <summary>A FAKE token credential: hands out a constant token and records the scopes asked for.</summary>
internal sealed class FakeTokenCredential : TokenCredential
{
    private readonly ConcurrentQueue<string> _scopes = new();

    public IReadOnlyCollection<string> RequestedScopes => [.. _scopes];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (var scope in requestContext.Scopes)
        {
            _scopes.Enqueue(scope);
        }

        return new AccessToken("fake-token", DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));
}
