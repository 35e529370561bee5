using System.Net;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Azure.Tests.Fakes;

/// <summary>What the proxy does with one request.</summary>
internal enum Fault
{
    /// <summary>Forward it unchanged.</summary>
    None,

    /// <summary>Answer 503 Server Busy without forwarding.</summary>
    ServiceUnavailable,

    /// <summary>Wait <see cref="FaultInjectingProxy.Delay"/> before forwarding (past the client's per-try timeout).</summary>
    Delay,

    /// <summary>Read part of the request body, then reset the connection.</summary>
    ResetMidBody,

    /// <summary>Answer 409 BlobImmutableDueToPolicy, as Azure does for a delete under retention.</summary>
    ImmutableConflict,

    /// <summary>Answer 200 without forwarding, as Azure does to an accepted immutability policy or legal hold.</summary>
    AcceptWithoutForwarding,

    /// <summary>Answer 403 AuthorizationPermissionMismatch, as Azure does to a caller whose role lacks the action.</summary>
    Forbidden,

    /// <summary>
    /// Forward, then add <c>x-ms-immutability-policy-until-date</c> = <see cref="FaultInjectingProxy.InheritedRetainUntil"/>,
    /// as Azure reports a blob protected by its container's default version-level policy.
    /// </summary>
    InheritedImmutability,
}

/// <summary>
/// A loopback HTTP proxy between a client and Azurite that injects faults chosen per request by
/// <see cref="Rule"/> (given the request number and method + path + query). Requests are forwarded as they
/// are (headers and body), so Shared Key signatures stay valid.
/// </summary>
internal sealed class FaultInjectingProxy : IAsyncDisposable
{
    private static readonly HashSet<string> s_hopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    private readonly Uri _target;
    private int _requests;
    private int _faults;
    private int _inFlight;
    private int _peakInFlight;

    private FaultInjectingProxy(WebApplication app, Uri target, int port)
    {
        _app = app;
        _target = target;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Chooses the fault for request number n (1-based) and its "METHOD path?query".</summary>
    public Func<int, string, Fault> Rule { get; set; } = (_, _) => Fault.None;

    /// <summary>How long <see cref="Fault.Delay"/> waits.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The retention date <see cref="Fault.InheritedImmutability"/> reports.</summary>
    public DateTimeOffset InheritedRetainUntil { get; set; }

    /// <summary>When true, <see cref="Fault.InheritedImmutability"/> also reports a legal hold.</summary>
    public bool InheritedLegalHold { get; set; }

    /// <summary>The most requests the proxy was handling at one time.</summary>
    public int PeakInFlight => Volatile.Read(ref _peakInFlight);

    /// <summary>Requests seen.</summary>
    public int Requests => _requests;

    /// <summary>Faults injected.</summary>
    public int Faults => _faults;

    /// <summary>Rewrites an upstream URL (e.g. Azurite's account endpoint) to go through the proxy.</summary>
    public Uri Through(Uri upstream) => new UriBuilder(upstream) { Host = "127.0.0.1", Port = Port }.Uri;

    public static async Task<FaultInjectingProxy> StartAsync(Uri target)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var proxy = new FaultInjectingProxy(app, target, port);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            int peak;
            while (inFlight > (peak = Volatile.Read(ref _peakInFlight)) && Interlocked.CompareExchange(ref _peakInFlight, inFlight, peak) != peak)
            {
            }

            await HandleCoreAsync(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task HandleCoreAsync(HttpContext context)
    {
        var n = Interlocked.Increment(ref _requests);
        var request = context.Request;
        var fault = Rule(n, $"{request.Method} {request.Path}{request.QueryString}");
        if (fault != Fault.None)
        {
            Interlocked.Increment(ref _faults);
        }

        switch (fault)
        {
            case Fault.ServiceUnavailable:
                context.Response.StatusCode = 503;
                context.Response.Headers["x-ms-error-code"] = "ServerBusy";
                return;
            case Fault.ImmutableConflict:
                context.Response.StatusCode = 409;
                context.Response.Headers["x-ms-error-code"] = "BlobImmutableDueToPolicy";
                return;
            case Fault.Forbidden:
                context.Response.StatusCode = 403;
                context.Response.Headers["x-ms-error-code"] = "AuthorizationPermissionMismatch";
                return;
            case Fault.AcceptWithoutForwarding:
                context.Response.StatusCode = 200;
                context.Response.Headers["x-ms-request-id"] = Guid.NewGuid().ToString();
                return;
            case Fault.Delay:
                await Task.Delay(Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                if (context.RequestAborted.IsCancellationRequested)
                {
                    return;
                }

                break;
            case Fault.ResetMidBody:
                var half = new byte[Math.Max(1, (int)((request.ContentLength ?? 2) / 2))];
                await request.Body.ReadAtLeastAsync(half, half.Length, throwOnEndOfStream: false);
                context.Abort();
                return;
        }

        await ForwardAsync(context, fault == Fault.InheritedImmutability);
    }

    private async Task ForwardAsync(HttpContext context, bool addInheritedImmutability)
    {
        var request = context.Request;
        var target = new Uri(_target, $"{request.PathBase}{request.Path}{request.QueryString}");
        using var upstream = new HttpRequestMessage(new HttpMethod(request.Method), target);
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body, context.RequestAborted);
            body.Position = 0;
            upstream.Content = new StreamContent(body);
        }
        else if (request.Method is "PUT" or "POST")
        {
            upstream.Content = new ByteArrayContent([]);
        }

        foreach (var header in request.Headers)
        {
            if (s_hopHeaders.Contains(header.Key))
            {
                continue;
            }

            if (!upstream.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value))
            {
                upstream.Content?.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            }
        }

        using var response = await _upstream.SendAsync(upstream, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (!s_hopHeaders.Contains(header.Key))
            {
                context.Response.Headers[header.Key] = header.Value.ToArray();
            }
        }

        if (addInheritedImmutability)
        {
            context.Response.Headers["x-ms-immutability-policy-until-date"] = InheritedRetainUntil.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["x-ms-immutability-policy-mode"] = "unlocked";
            if (InheritedLegalHold)
            {
                context.Response.Headers["x-ms-legal-hold"] = "true";
            }
        }

        if (request.Method != "HEAD")
        {
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
