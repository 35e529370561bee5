using EtcdServerless.Etcd.Errors;

namespace EtcdServerless.Etcd.Grpc;

/// <summary>
/// An open gRPC call: messages are read one at a time into a pooled buffer (bounded memory whatever the stream
/// length); the end of the stream is only reported after grpc-status 0 was seen in the trailers.
/// Disposing before the end cancels the HTTP/2 stream.
/// </summary>
internal sealed class GrpcStreamingCall : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly string _method;
    private readonly HttpResponseMessage _response;
    private readonly Stream _body;
    private readonly CancellationTokenSource? _deadline;
    private readonly GrpcMessageReader _reader;
    private bool _completed;

    internal GrpcStreamingCall(GrpcChannel channel, string method, HttpResponseMessage response, Stream body, CancellationTokenSource? deadline, int maxMessageSize)
    {
        _channel = channel;
        _method = method;
        _response = response;
        _body = body;
        _deadline = deadline;
        _reader = new GrpcMessageReader(body, maxMessageSize);
    }

    /// <summary>
    /// The next message (valid until the next call), or null when the server ended the stream with status OK.
    /// </summary>
    /// <exception cref="EtcdException">Non-OK status, broken connection (Unavailable), deadline.</exception>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        if (_completed)
        {
            return null;
        }

        ReadOnlyMemory<byte>? message;
        using var linked = _deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _deadline.Token);
        try
        {
            message = await _reader.ReadAsync(linked?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new EtcdUnavailableException($"{_method}: stream ended inside a message.", _channel.Endpoint, ex);
        }
        catch (Exception ex) when (ex is not InvalidDataException and not EtcdException)
        {
            var translated = _channel.TranslateTransport(ex, _method, _deadline, cancellationToken);
            if (ReferenceEquals(translated, ex))
            {
                throw;
            }

            throw translated;
        }

        if (message is not null)
        {
            return message;
        }

        _completed = true;
        var status = GrpcChannel.ReadStatus(_response.TrailingHeaders) ?? GrpcChannel.ReadStatus(_response.Headers);
        if (status is null)
        {
            // A proxy or a dying server closed the stream cleanly but without the gRPC trailer.
            throw new EtcdUnavailableException($"{_method}: stream ended without grpc-status.", _channel.Endpoint);
        }

        if (status.Value.Code != GrpcStatusCode.Ok)
        {
            throw EtcdErrors.FromStatus(status.Value.Code, status.Value.Message, _channel.Endpoint);
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _body.DisposeAsync().ConfigureAwait(false);
        _response.Dispose();
        _deadline?.Dispose();
    }
}
