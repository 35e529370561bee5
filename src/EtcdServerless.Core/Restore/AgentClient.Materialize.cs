using System.Net.Http.Headers;
using EtcdServerless.Core.Deltas;

namespace EtcdServerless.Core.Restore;

/// <summary>The materialize call: the same mutual TLS and error translation as the restore calls.</summary>
internal sealed partial class AgentClient
{
    /// <summary>
    /// Streams <paramref name="body"/> (the framed description and the plaintexts, exactly <paramref name="length"/>
    /// bytes, never buffered) to the agent's materialize endpoint and hands its answer, the materialized snapshot, to
    /// <paramref name="consume"/> as it arrives. No time limit: the caller's token bounds it.
    /// </summary>
    public Task<T> MaterializeAsync<T>(
        string agentUrl, Stream body, long length, Func<HttpResponseMessage, Stream, CancellationToken, Task<T>> consume, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(consume);
        var content = new StreamContent(body, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = length;
        return ReceiveAsync(HttpMethod.Post, agentUrl, AgentMaterializeProtocol.Path, content, "the materialized snapshot", consume, cancellationToken);
    }
}
