using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace EtcdServerless.Workflows.Http;

/// <summary>
/// The API key callers must present, compared in constant time. Both hosts build it from <c>Api:ApiKey</c>, so a key
/// too short to resist guessing stops <c>serve</c> and the Function App at start rather than being accepted.
/// </summary>
internal sealed class ApiKey
{
    /// <summary>The shortest key accepted: 32 characters, what <see cref="Generate"/> exceeds (43).</summary>
    public const int MinimumLength = 32;

    /// <summary>The configuration key named in errors.</summary>
    public const string SettingName = "Api:ApiKey";

    private readonly byte[] _key;

    /// <summary>Takes a key that passed <see cref="Check"/>.</summary>
    /// <exception cref="ArgumentException">The key is empty, blank or shorter than <see cref="MinimumLength"/>.</exception>
    public ApiKey(string? key)
    {
        if (Check(key) is { } problem)
        {
            throw new ArgumentException(problem, nameof(key));
        }

        _key = Encoding.UTF8.GetBytes(key!);
    }

    /// <summary>The configured key of a host that serves the API: a configuration error naming the setting when it is unfit.</summary>
    /// <param name="key">The value of <c>Api:ApiKey</c>.</param>
    /// <param name="host">Who needs it and where it is set, for the message (e.g. "serve").</param>
    /// <exception cref="InvalidOperationException">The key is missing or too short.</exception>
    public static ApiKey FromSetting(string? key, string host) =>
        Check(key) is { } problem ? throw new InvalidOperationException($"{problem} ({host})") : new ApiKey(key);

    /// <summary>What is wrong with <paramref name="key"/> as an API key, or null when it is fit.</summary>
    public static string? Check(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return $"{SettingName}: an API key is required, at least {MinimumLength} characters (`etcd-backup keys api-key` prints one)";
        }

        // The length is said, never the key: it is a secret even when it is a bad one.
        return key.Length < MinimumLength
            ? $"{SettingName}: the API key has {key.Length} characters, at least {MinimumLength} are required (`etcd-backup keys api-key` prints one)"
            : null;
    }

    /// <summary>A new random key: 32 bytes from the system's CSPRNG, base64url without padding (43 characters).</summary>
    public static string Generate() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// True when the request carries the key as <c>Authorization: Bearer KEY</c>: what a Prometheus scrape job sends
    /// (its <c>authorization</c> setting), accepted by <c>serve</c>'s <c>/metrics</c> only.
    /// </summary>
    public bool IsPresentedAsBearer(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? header = request.Headers.Authorization;
        const string Scheme = "Bearer ";
        return header is { Length: > 7 } && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()), _key);
    }

    /// <summary>True when the request carries the key in <c>x-api-key</c>, <c>x-functions-key</c> or <c>?code=</c>.</summary>
    public bool IsPresentedBy(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? presented = request.Headers["x-api-key"];
        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Headers["x-functions-key"];
        }

        if (string.IsNullOrEmpty(presented))
        {
            presented = request.Query["code"];
        }

        return !string.IsNullOrEmpty(presented) && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _key);
    }
}
