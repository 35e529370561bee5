using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// Signs each try of a request with Storage Shared Key: <c>Authorization: SharedKey account:signature</c>,
/// the signature being HMAC-SHA256 (keyed with the decoded account key) over the verb, the standard headers,
/// the canonicalized <c>x-ms-*</c> headers and the canonicalized resource. Runs per retry so every try gets
/// a fresh <c>x-ms-date</c>.
/// </summary>
internal sealed class SharedKeyAuthenticationPolicy : HttpPipelineSynchronousPolicy
{
    private static readonly string[] s_standardHeaders =
    [
        "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
        "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
    ];

    private readonly string _accountName;
    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public SharedKeyAuthenticationPolicy(string accountName, byte[] key, TimeProvider time)
    {
        _accountName = accountName;
        _key = key;
        _time = time;
    }

    /// <inheritdoc/>
    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", _time.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
        var stringToSign = BuildStringToSign(request, _accountName);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue("Authorization", $"SharedKey {_accountName}:{signature}");
    }

    /// <summary>The Shared Key string-to-sign of a request (exposed for tests).</summary>
    internal static string BuildStringToSign(Request request, string accountName)
    {
        var sb = new StringBuilder(256);
        sb.Append(request.Method.Method.ToUpperInvariant()).Append('\n');
        foreach (var name in s_standardHeaders)
        {
            var value = name == "Content-Length" ? ContentLength(request) : HeaderValue(request, name);
            sb.Append(value).Append('\n');
        }

        AppendCanonicalizedHeaders(sb, request);
        AppendCanonicalizedResource(sb, request, accountName);
        return sb.ToString();
    }

    private static string ContentLength(Request request)
    {
        if (request.Content is not null && request.Content.TryComputeLength(out var length))
        {
            // Since 2015-02-21 a zero length signs as the empty string.
            return length == 0 ? "" : length.ToString(CultureInfo.InvariantCulture);
        }

        var header = HeaderValue(request, "Content-Length");
        return header == "0" ? "" : header;
    }

    private static string HeaderValue(Request request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value : "";

    private static void AppendCanonicalizedHeaders(StringBuilder sb, Request request)
    {
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var header in request.Headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add(new(header.Name.ToLowerInvariant(), CollapseWhitespace(header.Value)));
            }
        }

        headers.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var (name, value) in headers)
        {
            sb.Append(name).Append(':').Append(value).Append('\n');
        }
    }

    private static void AppendCanonicalizedResource(StringBuilder sb, Request request, string accountName)
    {
        var path = request.Uri.Path;
        sb.Append('/').Append(accountName).Append(string.IsNullOrEmpty(path) ? "/" : path);

        var query = request.Uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return;
        }

        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            if (!parameters.TryGetValue(name, out var values))
            {
                parameters[name] = values = [];
            }

            values.Add(value);
        }

        foreach (var (name, values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            sb.Append('\n').Append(name).Append(':').AppendJoin(',', values);
        }
    }

    private static string CollapseWhitespace(string value)
    {
        var trimmed = value.Trim();
        if (!trimmed.Contains("  ", StringComparison.Ordinal))
        {
            return trimmed;
        }

        var sb = new StringBuilder(trimmed.Length);
        var previousSpace = false;
        foreach (var c in trimmed)
        {
            var space = c == ' ';
            if (!(space && previousSpace))
            {
                sb.Append(c);
            }

            previousSpace = space;
        }

        return sb.ToString();
    }
}
