using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Etcd.Errors;
using Google.Protobuf;

namespace EtcdServerless.Etcd.Grpc;

/// <summary>
/// A minimal gRPC client over HTTP/2 with plain <see cref="HttpClient"/>: unary and server-streaming calls,
/// 5-byte framing, grpc-status from trailers (or headers for trailers-only replies), TLS with custom CA and
/// client certificates. Transport failures surface as <see cref="EtcdException"/> subtypes.
/// </summary>
internal sealed class GrpcChannel : IDisposable
{
    private static readonly MediaTypeHeaderValue s_grpcContentType = new("application/grpc");

    private readonly HttpClient _http;
    private readonly GrpcChannelOptions _options;
    private readonly X509Certificate2Collection _disposables = [];

    public GrpcChannel(GrpcChannelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var scheme = options.Address.Scheme;
        if (scheme != Uri.UriSchemeHttp && scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"etcd endpoint '{options.Address}' must be http:// or https://.", nameof(options));
        }

        _options = options;
        Endpoint = options.Address.GetLeftPart(UriPartial.Authority);
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.ConnectTimeout,
            // etcd's keepalive policy punishes pings more often than every 5 s or without active streams.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(20),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        if (scheme == Uri.UriSchemeHttps)
        {
            ConfigureTls(handler.SslOptions, options);
        }
        else if (options.CaFile is not null || options.CertFile is not null)
        {
            throw new ArgumentException($"TLS files were given but endpoint '{options.Address}' is http://; use https://.", nameof(options));
        }

        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = options.Address,
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>scheme://host:port of the endpoint, used in messages.</summary>
    public string Endpoint { get; }

    /// <summary>Sends one request message and reads exactly one response message.</summary>
    public async Task<TResponse> UnaryAsync<TResponse>(
        string method,
        IMessage request,
        MessageParser<TResponse> parser,
        GrpcCallSettings settings,
        CancellationToken cancellationToken = default)
        where TResponse : IMessage<TResponse>
    {
        var call = await StartAsync(method, request, settings, cancellationToken).ConfigureAwait(false);
        await using var _ = call.ConfigureAwait(false);
        var first = await call.ReadMessageAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new EtcdException(GrpcStatusCode.Internal, $"{method} returned no message.", Endpoint);
        TResponse response;
        try
        {
            response = parser.ParseFrom(first.Span);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new EtcdException(GrpcStatusCode.Internal, $"{method} returned a malformed message.", Endpoint, new InvalidDataException(ex.Message, ex));
        }

        if (await call.ReadMessageAsync(cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new EtcdException(GrpcStatusCode.Internal, $"{method} returned more than one message.", Endpoint);
        }

        return response;
    }

    /// <summary>
    /// Starts a call and returns once response headers arrived (so auth and routing errors surface here, before
    /// any message is read). The caller reads messages incrementally and disposes the call.
    /// </summary>
    public async Task<GrpcStreamingCall> StartAsync(
        string method,
        IMessage request,
        GrpcCallSettings settings,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        CancellationTokenSource? deadline = null;
        if (settings.Timeout is { } timeout && timeout != Timeout.InfiniteTimeSpan)
        {
            deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
        }

        var token = deadline?.Token ?? cancellationToken;
        using var message = new HttpRequestMessage(HttpMethod.Post, method)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = Frame(request),
        };
        message.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        message.Headers.UserAgent.Add(new ProductInfoHeaderValue("etcdserverless", "0.1"));
        if (settings.Timeout is { } t && t != Timeout.InfiniteTimeSpan)
        {
            message.Headers.TryAddWithoutValidation("grpc-timeout", FormatTimeout(t));
        }

        foreach (var (name, value) in settings.Headers ?? [])
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not EtcdException)
        {
            var translated = TranslateTransport(ex, method, deadline, cancellationToken);
            deadline?.Dispose();
            throw translated;
        }

        try
        {
            CheckHeaders(response, method);
            var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            return new GrpcStreamingCall(this, method, response, body, deadline, _options.MaxReceiveMessageSize);
        }
        catch (Exception ex)
        {
            response.Dispose();
            var translated = ex is EtcdException e ? e : TranslateTransport(ex, method, deadline, cancellationToken);
            deadline?.Dispose();
            throw translated;
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        foreach (var certificate in _disposables)
        {
            certificate.Dispose();
        }
    }

    /// <summary>Turns a transport exception into the etcd exception a caller handles; keeps user cancellation as is.</summary>
    internal Exception TranslateTransport(Exception ex, string method, CancellationTokenSource? deadline, CancellationToken userToken)
    {
        if (ex is EtcdException)
        {
            return ex;
        }

        if (ex is OperationCanceledException)
        {
            if (userToken.IsCancellationRequested)
            {
                return ex;
            }

            if (deadline?.IsCancellationRequested == true)
            {
                return new EtcdDeadlineExceededException($"{method} did not complete before its deadline.", Endpoint, ex);
            }

            // HttpClient reports a connect timeout as a cancellation that nobody requested.
            return new EtcdUnavailableException($"{method}: connection timed out.", Endpoint, ex);
        }

        if (ex is HttpRequestException or IOException or System.Security.Authentication.AuthenticationException)
        {
            var detail = ex is HttpRequestException { HttpRequestError: var kind } ? $" ({kind})" : "";
            return new EtcdUnavailableException($"{method}: {Innermost(ex).Message}{detail}", Endpoint, ex);
        }

        return ex;
    }

    internal static (GrpcStatusCode Code, string Message)? ReadStatus(HttpHeaders headers)
    {
        if (!headers.TryGetValues("grpc-status", out var values))
        {
            return null;
        }

        var raw = values.FirstOrDefault();
        if (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return (GrpcStatusCode.Internal, $"malformed grpc-status '{raw}'");
        }

        var text = headers.TryGetValues("grpc-message", out var messages) ? messages.FirstOrDefault() ?? "" : "";
        try
        {
            text = Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            // Keep the raw text: a bad escape must not hide the status.
        }

        return ((GrpcStatusCode)code, text);
    }

    private void CheckHeaders(HttpResponseMessage response, string method)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var code = response.StatusCode switch
            {
                HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
                HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
                HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
                HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
                HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
                    or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => GrpcStatusCode.Unavailable,
                _ => GrpcStatusCode.Unknown,
            };
            throw EtcdErrors.FromStatus(code, $"{method}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}", Endpoint);
        }

        // Trailers-only reply: the status is in the headers and the body is empty.
        if (ReadStatus(response.Headers) is { } status && status.Code != GrpcStatusCode.Ok)
        {
            throw EtcdErrors.FromStatus(status.Code, status.Message, Endpoint);
        }

        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (contentType is null || !contentType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            throw new EtcdException(GrpcStatusCode.Internal, $"{method}: unexpected content-type '{contentType}' (is this an etcd client port?).", Endpoint);
        }
    }

    private static ByteArrayContent Frame(IMessage request)
    {
        var size = request.CalculateSize();
        var bytes = new byte[size + 5];
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), (uint)size);
        request.WriteTo(bytes.AsSpan(5));
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = s_grpcContentType;
        return content;
    }

    private static string FormatTimeout(TimeSpan timeout)
    {
        // grpc-timeout allows at most 8 digits.
        var ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
        return ms < 100_000_000
            ? ms.ToString(CultureInfo.InvariantCulture) + "m"
            : Math.Min((long)timeout.TotalSeconds, 99_999_999).ToString(CultureInfo.InvariantCulture) + "S";
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    private void ConfigureTls(SslClientAuthenticationOptions ssl, GrpcChannelOptions options)
    {
        ssl.ApplicationProtocols = [SslApplicationProtocol.Http2];
        if (options.CaFile is not null)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(options.CaFile);
            if (roots.Count == 0)
            {
                throw new ArgumentException($"CA file '{options.CaFile}' holds no certificate.", nameof(options));
            }

            _disposables.AddRange(roots);
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.AddRange(roots);
            ssl.CertificateChainPolicy = policy;
        }

        if (options.CertFile is not null || options.KeyFile is not null)
        {
            if (options.CertFile is null || options.KeyFile is null)
            {
                throw new ArgumentException("A client certificate needs both a certificate file and a key file.", nameof(options));
            }

            var certificate = X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile);
            _disposables.Add(certificate);
            ssl.ClientCertificates = [certificate];
        }
    }
}
