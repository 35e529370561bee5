using Azure.Core;
using Azure.Core.Pipeline;

namespace EtcdServerless.Azure.Blob;

/// <summary>
/// Appends a SAS to each request's query. Runs once per call (not per retry) so a retried request does not
/// carry the token twice. Azure.Core's logging redacts every query parameter that is not on the allow list,
/// and <c>sig</c> is never put on it.
/// </summary>
internal sealed class SasQueryPolicy(string sas) : HttpPipelineSynchronousPolicy
{
    private readonly string _sas = sas.TrimStart('?');

    /// <inheritdoc/>
    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var uri = message.Request.Uri;
        var query = uri.Query;
        uri.Query = string.IsNullOrEmpty(query) || query == "?" ? "?" + _sas : query + "&" + _sas;
    }
}
