using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using EtcdServerless.Workflows.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// Throttles wrong API keys per client address with the rate limiter of ASP.NET Core (System.Threading.RateLimiting,
/// a token bucket per partition): every <c>/api</c> and <c>/metrics</c> request without the right key takes a token from its client's
/// bucket; an empty bucket answers 429 (problem+json, <c>Retry-After</c>) to that client for every request, the
/// right key included, so a guess that happens to be right is not let through while the client is throttled.
/// </summary>
/// <remarks>
/// The limiter is applied here rather than by the rate-limiting middleware because that one takes a permit before
/// the key is known: it would have to charge good requests too, or exempt them and so answer a correct guess.
/// </remarks>
internal sealed class FailedKeyThrottle : IDisposable
{
    private readonly ApiKey _key;
    private readonly ApiServerLimits _limits;
    private readonly ILogger _logger;
    private readonly PartitionedRateLimiter<string> _limiter;

    public FailedKeyThrottle(ApiKey key, ApiServerLimits limits, ILogger logger)
    {
        _key = key;
        _limits = limits;
        _logger = logger;
        // Full buckets are idle and dropped by the limiter, so memory follows the clients currently failing.
        _limiter = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = limits.FailedKeyBurst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = limits.FailedKeyReplenishPeriod,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
            && !context.Request.Path.StartsWithSegments(MetricsEndpoint.Path, StringComparison.OrdinalIgnoreCase))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var client = Partition(context.Connection.RemoteIpAddress);
        var rightKey = _key.IsPresentedBy(context.Request) || _key.IsPresentedAsBearer(context.Request);

        // The right key spends nothing but is refused while the client holds less than one whole token: the bucket's
        // count is fractional (it refills a little at a time), so asking for 0 permits said yes to 0.0001 tokens
        // while every wrong key was still refused.
        if (rightKey && _limiter.GetStatistics(client) is not { CurrentAvailablePermits: < 1 })
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        // A wrong or missing key spends a token; for the right key of a throttled client this fails (nothing to spend),
        // unless a token came back in between, and then the request goes on.
        using var lease = _limiter.AttemptAcquire(client, 1);
        if (lease.IsAcquired)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) && after > TimeSpan.Zero ? after : _limits.FailedKeyReplenishPeriod;
        var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
        _logger.ClientThrottled(context.Connection.RemoteIpAddress, seconds);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await BackupApi.Problem(StatusCodes.Status429TooManyRequests, "Too many requests",
            $"Too many requests with a wrong or missing API key from this address; retry after {seconds} s.").ExecuteAsync(context).ConfigureAwait(false);
    }

    public void Dispose() => _limiter.Dispose();

    // One bucket per IPv4 address and per IPv6 /64 (one host usually holds a whole /64, and could rotate through it).
    internal static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
