using System.Runtime.CompilerServices;
using System.Text;
using Etcdserverpb;
using EtcdServerless.Etcd.Errors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Etcd.Client;

/// <summary>
/// etcd v3 client for one member endpoint: the KV, lease, cluster, maintenance and auth calls this product
/// needs, through dotnet-etcd's generated etcd stubs on one Grpc.Net.Client channel. Every unary call has a
/// deadline; failures leave as <see cref="EtcdException"/> subtypes. With a username it authenticates on first use, sends the token on every call and, when the server
/// says the token is invalid (expired), authenticates again and retries the call once. Thread-safe.
/// </summary>
internal sealed partial class EtcdClient : IAsyncDisposable, IDisposable
{
    private readonly EtcdChannel _channel;
    private readonly KV.KVClient _kv;
    private readonly Maintenance.MaintenanceClient _maintenance;
    private readonly Cluster.ClusterClient _cluster;
    private readonly Lease.LeaseClient _lease;
    private readonly Auth.AuthClient _auth;
    private readonly Watch.WatchClient _watch;
    private readonly EtcdClientOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _authGate = new(1, 1);
    private volatile string? _token;
    private volatile bool _authDisabled;

    public EtcdClient(EtcdClientOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Username is not null && options.Password is null)
        {
            throw new ArgumentException("A username needs a password.", nameof(options));
        }

        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _channel = EtcdChannel.Create(options);
        var invoker = _channel.Channel.CreateCallInvoker();
        _kv = new KV.KVClient(invoker);
        _maintenance = new Maintenance.MaintenanceClient(invoker);
        _cluster = new Cluster.ClusterClient(invoker);
        _lease = new Lease.LeaseClient(invoker);
        _auth = new Auth.AuthClient(invoker);
        _watch = new Watch.WatchClient(invoker);
    }

    /// <summary>The member this client talks to.</summary>
    public Uri Endpoint => _options.Endpoint;

    /// <summary>The options this client was built with.</summary>
    public EtcdClientOptions Options => _options;

    // ---- Maintenance ----

    public async Task<EtcdStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((h, d, c) => _maintenance.StatusAsync(new StatusRequest(), h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdStatus(Map(r.Header), r.Version, r.DbSize, r.DbSizeInUse, r.Leader, r.RaftIndex, r.RaftTerm,
            r.RaftAppliedIndex, [.. r.Errors], r.IsLearner, r.StorageVersion);
    }

    public async Task<IReadOnlyList<EtcdAlarm>> AlarmListAsync(CancellationToken cancellationToken = default)
    {
        var request = new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get };
        var r = await CallAsync((h, d, c) => _maintenance.AlarmAsync(request, h, d, c), cancellationToken).ConfigureAwait(false);
        return [.. r.Alarms.Select(a => new EtcdAlarm(a.MemberID, (EtcdAlarmType)a.Alarm))];
    }

    public async Task<EtcdHash> HashAsync(CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((h, d, c) => _maintenance.HashAsync(new HashRequest(), h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdHash(Map(r.Header), r.Hash);
    }

    /// <summary>Hash of the MVCC key space up to <paramref name="revision"/> (0 = current).</summary>
    public async Task<EtcdHashKV> HashKVAsync(long revision = 0, CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((h, d, c) => _maintenance.HashKVAsync(new HashKVRequest { Revision = revision }, h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdHashKV(Map(r.Header), r.Hash, r.CompactRevision, r.HashRevision);
    }

    // ---- Cluster ----

    public async Task<EtcdMemberList> MemberListAsync(CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((h, d, c) => _cluster.MemberListAsync(new MemberListRequest(), h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdMemberList(Map(r.Header), [.. r.Members.Select(m => new EtcdMember(m.ID, m.Name, [.. m.PeerURLs], [.. m.ClientURLs], m.IsLearner))]);
    }

    // ---- KV ----

    /// <summary>Range over [key, rangeEnd) (rangeEnd empty = the single key; "\0" = to the end).</summary>
    public async Task<EtcdRangeResult> RangeAsync(
        ReadOnlyMemory<byte> key,
        ReadOnlyMemory<byte> rangeEnd = default,
        long limit = 0,
        long revision = 0,
        bool countOnly = false,
        bool keysOnly = false,
        bool serializable = false,
        CancellationToken cancellationToken = default)
    {
        var request = new RangeRequest
        {
            Key = ByteString.CopyFrom(key.Span),
            RangeEnd = ByteString.CopyFrom(rangeEnd.Span),
            Limit = limit,
            Revision = revision,
            CountOnly = countOnly,
            KeysOnly = keysOnly,
            Serializable = serializable,
        };
        var r = await CallAsync((h, d, c) => _kv.RangeAsync(request, h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdRangeResult(Map(r.Header), [.. r.Kvs.Select(Map)], r.More, r.Count);
    }

    /// <summary>One key, or null.</summary>
    public async Task<EtcdKeyValue?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var result = await RangeAsync(Utf8(key), cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Kvs.Count > 0 ? result.Kvs[0] : null;
    }

    /// <summary>All keys under <paramref name="prefix"/> ("" = every key).</summary>
    public Task<EtcdRangeResult> GetPrefixAsync(string prefix, long limit = 0, CancellationToken cancellationToken = default)
    {
        var (key, end) = PrefixRange(Utf8(prefix));
        return RangeAsync(key, end, limit: limit, cancellationToken: cancellationToken);
    }

    /// <summary>Number of keys under <paramref name="prefix"/> ("" = every key), without transferring them.</summary>
    public async Task<long> CountAsync(string prefix = "", CancellationToken cancellationToken = default)
    {
        var (key, end) = PrefixRange(Utf8(prefix));
        var result = await RangeAsync(key, end, countOnly: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Count;
    }

    public Task<EtcdPutResult> PutAsync(string key, string value, long lease = 0, CancellationToken cancellationToken = default) =>
        PutAsync(Utf8(key), Utf8(value), lease, cancellationToken);

    public async Task<EtcdPutResult> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long lease = 0, CancellationToken cancellationToken = default)
    {
        var request = new PutRequest { Key = ByteString.CopyFrom(key.Span), Value = ByteString.CopyFrom(value.Span), Lease = lease, PrevKv = true };
        var r = await CallAsync((h, d, c) => _kv.PutAsync(request, h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdPutResult(Map(r.Header), r.PrevKv is null ? null : Map(r.PrevKv));
    }

    /// <summary>Deletes [key, rangeEnd) (rangeEnd empty = the single key).</summary>
    public async Task<EtcdDeleteResult> DeleteRangeAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd = default, CancellationToken cancellationToken = default)
    {
        var request = new DeleteRangeRequest { Key = ByteString.CopyFrom(key.Span), RangeEnd = ByteString.CopyFrom(rangeEnd.Span) };
        var r = await CallAsync((h, d, c) => _kv.DeleteRangeAsync(request, h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdDeleteResult(Map(r.Header), r.Deleted);
    }

    public Task<EtcdDeleteResult> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        DeleteRangeAsync(Utf8(key), cancellationToken: cancellationToken);

    public Task<EtcdDeleteResult> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var (key, end) = PrefixRange(Utf8(prefix));
        return DeleteRangeAsync(key, end, cancellationToken);
    }

    /// <summary>Raw transaction (the protocol message); see <see cref="PutIfModRevisionAsync"/> for the common case.</summary>
    public async Task<EtcdTxnResult> TxnAsync(TxnRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var r = await CallAsync((h, d, c) => _kv.TxnAsync(request, h, d, c), cancellationToken).ConfigureAwait(false);
        return new EtcdTxnResult(Map(r.Header), r.Succeeded);
    }

    /// <summary>Puts only if the key's mod revision equals <paramref name="modRevision"/> (0 = the key must not exist).</summary>
    public Task<EtcdTxnResult> PutIfModRevisionAsync(string key, string value, long modRevision, CancellationToken cancellationToken = default)
    {
        var keyBytes = ByteString.CopyFromUtf8(key);
        var request = new TxnRequest();
        request.Compare.Add(new Compare
        {
            Key = keyBytes,
            Target = Compare.Types.CompareTarget.Mod,
            Result = Compare.Types.CompareResult.Equal,
            ModRevision = modRevision,
        });
        request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = keyBytes, Value = ByteString.CopyFromUtf8(value) } });
        return TxnAsync(request, cancellationToken);
    }

    /// <summary>Compacts history before <paramref name="revision"/>.</summary>
    public async Task<EtcdHeader> CompactAsync(long revision, bool physical = false, CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((h, d, c) => _kv.CompactAsync(new CompactionRequest { Revision = revision, Physical = physical }, h, d, c), cancellationToken).ConfigureAwait(false);
        return Map(r.Header);
    }

    // ---- Lease ----

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/>; <paramref name="id"/> 0 lets etcd choose the id.</summary>
    public async Task<EtcdLease> LeaseGrantAsync(long ttlSeconds, long id = 0, CancellationToken cancellationToken = default)
    {
        var r = await CallAsync((h, d, c) => _lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds, ID = id }, h, d, c), cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(r.Error))
        {
            throw new EtcdException(GrpcStatusCode.Unknown, r.Error, _channel.Endpoint);
        }

        return new EtcdLease(Map(r.Header), r.ID, r.TTL);
    }

    // ---- Auth ----

    /// <summary>Authenticates now (normally done lazily) and returns the token.</summary>
    /// <exception cref="EtcdAuthenticationException">Wrong user or password.</exception>
    public async Task<string?> AuthenticateAsync(CancellationToken cancellationToken = default)
    {
        await RefreshTokenAsync(staleToken: _token, cancellationToken).ConfigureAwait(false);
        return _token;
    }

    // ---- Snapshot ----

    /// <summary>
    /// Streams <c>Maintenance/Snapshot</c>: database chunks and finally the 32-byte sha256 message, in order.
    /// Each chunk's memory belongs to its own parsed message and stays valid after the enumeration advances
    /// (a consumer may queue chunks). An expired token before the first chunk is renewed and the call retried
    /// once; errors after the first chunk are not retried (the consumer decides).
    /// </summary>
    public async IAsyncEnumerable<EtcdSnapshotChunk> SnapshotAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (call, first) = await StartSnapshotAsync(cancellationToken).ConfigureAwait(false);
        using var _ = call;
        var next = first;
        while (next is not null)
        {
            // ByteString.Memory is a view of the parsed message, no copy; the next read parses a new message.
            yield return new EtcdSnapshotChunk(next.Blob.Memory, next.RemainingBytes, next.Version);
            next = await ReadNextAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _channel.Dispose();
        _authGate.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>[prefix, prefix+1) as etcd range bounds; an empty prefix means every key.</summary>
    internal static (byte[] Key, byte[] RangeEnd) PrefixRange(byte[] prefix)
    {
        if (prefix.Length == 0)
        {
            return ([0], [0]);
        }

        var end = (byte[])prefix.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xFF)
            {
                end[i]++;
                return (prefix, end[..(i + 1)]);
            }
        }

        // All 0xFF: no upper bound exists, so range to the end of the key space.
        return (prefix, [0]);
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static EtcdHeader Map(ResponseHeader? h) =>
        h is null ? new EtcdHeader(0, 0, 0, 0) : new EtcdHeader(h.ClusterId, h.MemberId, h.Revision, h.RaftTerm);

    private static EtcdKeyValue Map(Mvccpb.KeyValue kv) =>
        new(kv.Key.ToByteArray(), kv.Value.ToByteArray(), kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    private async Task<TResponse> CallAsync<TResponse>(
        Func<Metadata?, DateTime?, CancellationToken, AsyncUnaryCall<TResponse>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await EnsureTokenAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var pending = call(Headers(token), Deadline(), cancellationToken);
                return await pending.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                var translated = Translate(ex, cancellationToken);
                if (attempt == 0 && token is not null && translated is EtcdException etcd && EtcdErrors.IsInvalidToken(etcd))
                {
                    _logger.TokenRejected(_channel.Endpoint, etcd.ServerMessage);
                    await RefreshTokenAsync(token, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw translated;
            }
        }
    }

    /// <summary>
    /// Opens the snapshot stream and reads its first message, so that an expired token (reported before any
    /// data) is refreshed and the call retried once, like a unary call.
    /// </summary>
    private async Task<(AsyncServerStreamingCall<SnapshotResponse> Call, SnapshotResponse? First)> StartSnapshotAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await EnsureTokenAsync(cancellationToken).ConfigureAwait(false);
            var call = _maintenance.Snapshot(new SnapshotRequest(), Headers(token), deadline: null, cancellationToken);
            try
            {
                var first = await ReadNextAsync(call.ResponseStream, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The next message, or null once the server ended the stream with status OK.</summary>
    private async Task<SnapshotResponse?> ReadNextAsync(IAsyncStreamReader<SnapshotResponse> stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.MoveNext(cancellationToken).ConfigureAwait(false) ? stream.Current : null;
        }
        catch (RpcException ex)
        {
            throw Translate(ex, cancellationToken);
        }
    }

    /// <summary>
    /// The caller's cancellation stays an <see cref="OperationCanceledException"/> (Grpc.Net.Client reports it as
    /// status Cancelled); everything else becomes an <see cref="EtcdException"/>.
    /// </summary>
    private Exception Translate(RpcException ex, CancellationToken cancellationToken) =>
        ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested
            ? new OperationCanceledException(ex.Status.Detail, ex, cancellationToken)
            : EtcdErrors.FromRpc(ex, _channel.Endpoint);

    private DateTime? Deadline() =>
        _options.CallTimeout == Timeout.InfiniteTimeSpan ? null : DateTime.UtcNow + _options.CallTimeout;

    private static Metadata? Headers(string? token) => token is null ? null : new Metadata { { "token", token } };
}
