using Etcdserverpb;
using EtcdServerless.Etcd.Errors;
using Grpc.Core;

namespace EtcdServerless.Etcd.Client;

// The auth token: fetched lazily on first use, shared by all callers, renewed once when the server rejects it.
internal sealed partial class EtcdClient
{
    private async ValueTask<string?> EnsureTokenAsync(CancellationToken cancellationToken)
    {
        if (_options.Username is null || _authDisabled)
        {
            return null;
        }

        var token = _token;
        if (token is not null)
        {
            return token;
        }

        await RefreshTokenAsync(null, cancellationToken).ConfigureAwait(false);
        return _token;
    }

    /// <summary>Authenticates unless another caller already replaced <paramref name="staleToken"/>.</summary>
    private async Task RefreshTokenAsync(string? staleToken, CancellationToken cancellationToken)
    {
        if (_options.Username is null)
        {
            return;
        }

        await _authGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is not null && !ReferenceEquals(_token, staleToken))
            {
                return;
            }

            _token = null;
            var request = new AuthenticateRequest { Name = _options.Username, Password = _options.Password ?? "" };
            try
            {
                // Credentials travel only on this call, never with a token header.
                AuthenticateResponse response;
                try
                {
                    response = await _auth.AuthenticateAsync(request, headers: null, Deadline(), cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException ex)
                {
                    throw Translate(ex, cancellationToken);
                }

                _token = response.Token;
                _logger.Authenticated(_channel.Endpoint, _options.Username);
            }
            catch (EtcdException ex) when (ex.StatusCode == GrpcStatusCode.FailedPrecondition
                && ex.ServerMessage.Contains("authentication is not enabled", StringComparison.OrdinalIgnoreCase))
            {
                _authDisabled = true;
                _logger.AuthNotEnabled(_channel.Endpoint);
            }
            catch (EtcdException ex) when (ex is EtcdInvalidArgumentException or EtcdAuthenticationException)
            {
                throw new EtcdAuthenticationException(
                    $"authentication as '{_options.Username}' failed: {ex.ServerMessage}", _channel.Endpoint, ex);
            }
        }
        finally
        {
            _authGate.Release();
        }
    }
}
