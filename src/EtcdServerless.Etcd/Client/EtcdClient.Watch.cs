using System.Runtime.CompilerServices;
using Etcdserverpb;
using EtcdServerless.Etcd.Errors;
using Google.Protobuf;
using Grpc.Core;

namespace EtcdServerless.Etcd.Client;

/// <summary>The watch and replay calls of <see cref="EtcdClient"/>: history out of one member, history into another.</summary>
internal sealed partial class EtcdClient
{
    /// <summary>
    /// The history of revisions <paramref name="fromRevision"/> to <paramref name="toRevision"/> (inclusive) of the
    /// key range [key, rangeEnd), one item per revision in revision order, through <c>Watch</c>. The enumeration ends
    /// after <paramref name="toRevision"/>; anything newer the member sends is not returned. etcd never splits one
    /// revision over two watch responses (fragmenting is not requested), so each item holds all events of its
    /// revision in the range.
    /// </summary>
    /// <param name="key">First key of the range.</param>
    /// <param name="rangeEnd">End of the range ("\0" with key "\0" = every key).</param>
    /// <param name="fromRevision">First revision wanted (at least 1).</param>
    /// <param name="toRevision">Last revision wanted; a revision the member has already reached.</param>
    /// <param name="idleTimeout">The watch is abandoned when no response arrives for this long.</param>
    /// <param name="cancellationToken">Stops the watch.</param>
    /// <exception cref="EtcdCompactedException"><paramref name="fromRevision"/> was already compacted away.</exception>
    /// <exception cref="EtcdDeadlineExceededException">Nothing arrived within <paramref name="idleTimeout"/>.</exception>
    public async IAsyncEnumerable<EtcdRevisionEvents> WatchHistoryAsync(
        ReadOnlyMemory<byte> key,
        ReadOnlyMemory<byte> rangeEnd,
        long fromRevision,
        long toRevision,
        TimeSpan idleTimeout,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromRevision, 1);
        if (toRevision < fromRevision)
        {
            yield break;
        }

        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var (call, first) = await StartWatchAsync(key, rangeEnd, fromRevision, idle, idleTimeout, cancellationToken).ConfigureAwait(false);
        using var disposeCall = call;
        var pending = new List<EtcdWatchEvent>();
        var pendingRevision = 0L;
        var response = first;
        while (true)
        {
            if (response is null)
            {
                throw new EtcdUnavailableException($"the watch ended before revision {toRevision} (last complete revision {pendingRevision - 1})", _channel.Endpoint);
            }

            if (response.CompactRevision > 0)
            {
                throw new EtcdCompactedException(fromRevision, response.CompactRevision, _channel.Endpoint);
            }

            if (response.Canceled)
            {
                throw new EtcdException(GrpcStatusCode.Unknown, $"the watch was cancelled by the member: {response.CancelReason}", _channel.Endpoint);
            }

            foreach (var e in response.Events)
            {
                var revision = e.Kv.ModRevision;
                if (revision != pendingRevision && pending.Count > 0)
                {
                    yield return new EtcdRevisionEvents(pendingRevision, pending);
                    pending = [];
                }

                if (revision > toRevision)
                {
                    yield break;
                }

                pendingRevision = revision;
                pending.Add(new EtcdWatchEvent(e.Type == Mvccpb.Event.Types.EventType.Delete, Map(e.Kv)));
            }

            // A response holds whole revisions, so the one in hand is complete when the response ends.
            if (pending.Count > 0)
            {
                yield return new EtcdRevisionEvents(pendingRevision, pending);
                pending = [];
                if (pendingRevision >= toRevision)
                {
                    yield break;
                }
            }

            response = await ReadWatchAsync(call, idle, idleTimeout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Applies one revision's events as one transaction (puts with their lease, deletes of single keys), so the
    /// member's next revision holds exactly these changes. Returns the revision the member gave the transaction.
    /// </summary>
    public async Task<long> ApplyRevisionAsync(IReadOnlyList<EtcdWatchEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var request = new TxnRequest();
        foreach (var e in events)
        {
            var key = ByteString.CopyFrom(e.Kv.Key);
            request.Success.Add(e.IsDelete
                ? new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key } }
                : new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFrom(e.Kv.Value), Lease = e.Kv.Lease } });
        }

        var r = await CallAsync((h, d, c) => _kv.TxnAsync(request, h, d, c), cancellationToken).ConfigureAwait(false);
        return r.Header.Revision;
    }

    private async Task<(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> Call, WatchResponse? First)> StartWatchAsync(
        ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd, long fromRevision, CancellationTokenSource idle, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        var create = new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFrom(key.Span),
                RangeEnd = ByteString.CopyFrom(rangeEnd.Span),
                StartRevision = fromRevision,
            },
        };
        for (var attempt = 0; ; attempt++)
        {
            var token = await EnsureTokenAsync(cancellationToken).ConfigureAwait(false);
            var call = _watch.Watch(Headers(token), deadline: null, idle.Token);
            try
            {
                try
                {
                    await call.RequestStream.WriteAsync(create, cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException ex)
                {
                    throw Translate(ex, cancellationToken);
                }

                // The first response confirms the watch (Created) or reports compaction / a refusal.
                var first = await ReadWatchAsync(call, idle, idleTimeout, cancellationToken).ConfigureAwait(false);
                while (first is { Created: true, Events.Count: 0, CompactRevision: 0, Canceled: false })
                {
                    first = await ReadWatchAsync(call, idle, idleTimeout, cancellationToken).ConfigureAwait(false);
                }

                return (call, first);
            }
            catch (EtcdAuthenticationException ex) when (attempt == 0 && token is not null && EtcdErrors.IsInvalidToken(ex))
            {
                call.Dispose();
                _logger.TokenRejected(_channel.Endpoint, ex.ServerMessage);
                await RefreshTokenAsync(token, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                call.Dispose();
                throw;
            }
        }
    }

    private async Task<WatchResponse?> ReadWatchAsync(
        AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, CancellationTokenSource idle, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        idle.CancelAfter(idleTimeout);
        try
        {
            return await call.ResponseStream.MoveNext(idle.Token).ConfigureAwait(false) ? call.ResponseStream.Current : null;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new EtcdDeadlineExceededException($"no watch response for {idleTimeout.TotalSeconds:0} s", _channel.Endpoint, ex);
        }
        catch (OperationCanceledException ex) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new EtcdDeadlineExceededException($"no watch response for {idleTimeout.TotalSeconds:0} s", _channel.Endpoint, ex);
        }
        catch (RpcException ex)
        {
            throw Translate(ex, cancellationToken);
        }
        finally
        {
            // The idle clock runs only while a response is awaited: a consumer that takes its time with the
            // revisions in hand (a slow store, a window waiting its turn) must not have the watch cancelled under it.
            if (!idle.IsCancellationRequested)
            {
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
    }
}
