using System.Net.Http.Headers;
using EtcdServerless.Core.Drills;

namespace EtcdServerless.Core.Restore;

/// <summary>The drill call: the same mutual TLS and error translation as the restore calls.</summary>
internal sealed partial class AgentClient
{
    /// <summary>
    /// Streams the plaintext snapshot (never buffered; exactly <see cref="DrillExpectation.Size"/> bytes) to the agent,
    /// which drills it in its own scratch folder and answers with its checks. No time limit: the caller's token bounds it.
    /// </summary>
    public Task<AgentDrillResponse> DrillAsync(string agentUrl, DrillExpectation expected, Stream snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(snapshot);
        var content = new StreamContent(snapshot, 1 << 20);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = expected.Size;
        content.Headers.Add(AgentProtocol.SnapshotSha256Header, expected.Sha256);
        return SendAsync<AgentDrillResponse>(HttpMethod.Post, agentUrl, $"{AgentDrillProtocol.Path}?{expected.ToQuery()}", content, Timeout.InfiniteTimeSpan, cancellationToken);
    }
}
