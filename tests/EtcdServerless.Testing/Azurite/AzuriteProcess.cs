using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Testing.Azurite;

/// <summary>
/// A real Azurite blob emulator process on a free loopback port with a throw-away workspace. Start one per
/// test class (xunit class fixture) and dispose it: the process is stopped by PID (SIGTERM, then SIGKILL
/// after a grace period, because Azurite may ignore SIGTERM) and its workspace deleted.
/// </summary>
/// <remarks>
/// Azurite runs with <c>--skipApiVersionCheck</c> (clients may send a newer <c>x-ms-version</c> than the
/// emulator knows) and <c>--loose</c> (it ignores headers it does not implement instead of failing).
/// It is started as <c>node main.js</c> directly, not through a wrapper script, so the PID we hold is the
/// node process itself and killing it leaves no orphan behind.
/// </remarks>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>The emulator's well-known account name (Azurite README).</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's well-known account key (Azurite README). Not a secret.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The <c>x-ms-version</c> the harness itself sends.</summary>
    public const string ApiVersion = "2025-05-05";

    private readonly NodeServerProcess _server;
    private readonly HttpClient _http = new();
    private int _disposed;

    private AzuriteProcess(NodeServerProcess server)
    {
        _server = server;
        BlobEndpoint = EndpointFor(server.Port);
    }

    /// <summary>The loopback port the blob service listens on.</summary>
    public int Port => _server.Port;

    /// <summary>The path-style account endpoint, <c>http://127.0.0.1:PORT/devstoreaccount1</c> (no trailing slash).</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>The emulator's process id.</summary>
    public int ProcessId => _server.ProcessId;

    /// <summary>What the emulator printed so far (for failure messages).</summary>
    public string Output => _server.Output;

    /// <summary>Starts Azurite and waits until it answers HTTP. Fails with an install hint when it is missing.</summary>
    public static async Task<AzuriteProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = await NodeServerProcess.StartAsync(
            "azurite-blob",
            "npm install -g azurite",
            (port, workspace) =>
            [
                "--blobHost", "127.0.0.1",
                "--blobPort", port.ToString(CultureInfo.InvariantCulture),
                "--location", workspace,
                "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
            ],
            port => new Uri($"{EndpointFor(port)}?comp=list"),
            cancellationToken).ConfigureAwait(false);
        return new AzuriteProcess(server);
    }

    /// <summary>Creates a container (private access). Succeeds when it already exists.</summary>
    public async Task CreateContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var sas = CreateAccountSas("rwdlacupitf", DateTimeOffset.UtcNow.AddHours(1));
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{BlobEndpoint}/{container}?restype=container&{sas}");
        request.Headers.Add("x-ms-version", ApiVersion);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"Azurite refused to create container '{container}': {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>
    /// Builds an account SAS (blob service; service, container and object resource types) signed with the
    /// well-known key, as a query string without the leading '?'. Follows the account SAS string-to-sign for
    /// signed versions 2020-12-06 and later.
    /// </summary>
    public static string CreateAccountSas(string permissions, DateTimeOffset expiresOn, string signedVersion = "2025-05-05")
    {
        var expiry = expiresOn.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        const string services = "b";
        const string resourceTypes = "sco";
        const string protocol = "https,http";
        var stringToSign = string.Join('\n', AccountName, permissions, services, resourceTypes, "", expiry, "", protocol, signedVersion, "", "");
        using var hmac = new HMACSHA256(Convert.FromBase64String(AccountKey));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        return string.Create(CultureInfo.InvariantCulture,
            $"sv={signedVersion}&ss={services}&srt={resourceTypes}&sp={permissions}&se={Uri.EscapeDataString(expiry)}&spr={Uri.EscapeDataString(protocol)}&sig={Uri.EscapeDataString(signature)}");
    }

    /// <summary>Stops the process (SIGTERM, then SIGKILL after a grace period) and deletes its workspace.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _http.Dispose();
        await _server.DisposeAsync().ConfigureAwait(false);
    }

    private static Uri EndpointFor(int port) => new($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/{AccountName}");
}
