using EtcdServerless.Workflows.Http;

namespace EtcdServerless.Cli.Serve;

/// <summary>
/// The limits <c>serve</c> sets on requests, explicitly rather than by Kestrel's defaults, so that each refusal is
/// ours and answered as problem+json (docs/http-api.md).
/// </summary>
internal sealed record ApiServerLimits
{
    /// <summary>Request bodies above this get 413 (Kestrel's limit too); the API's largest body is a restore request.</summary>
    public long MaxRequestBodyBytes { get; init; } = BackupApi.MaxBodyBytes;

    /// <summary>Path and query above this many characters get 414 from the API itself.</summary>
    public int MaxUrlLength { get; init; } = 2048;

    /// <summary>
    /// Kestrel's request-line limit, above <see cref="MaxUrlLength"/>: Kestrel refuses longer lines while parsing,
    /// before any middleware runs, with its own empty 414; between the two the API answers problem+json.
    /// </summary>
    public int MaxRequestLineBytes { get; init; } = 8 * 1024;

    /// <summary>Wrong or missing keys a client address may send in a burst before it gets 429.</summary>
    public int FailedKeyBurst { get; init; } = 10;

    /// <summary>How often one more wrong key is allowed again after the burst (10 a minute by default).</summary>
    public TimeSpan FailedKeyReplenishPeriod { get; init; } = TimeSpan.FromSeconds(6);
}
