namespace EtcdServerless.Azure.Blob;

/// <summary>What happened when the store asked the service to protect a blob (retention policy or legal hold).</summary>
/// <param name="Applied">True when the service accepted the protection.</param>
/// <param name="Detail">A short human-readable statement, e.g. "immutability not supported by this endpoint (HTTP 501 APINotImplemented)".</param>
internal sealed record ImmutabilityOutcome(bool Applied, string Detail)
{
    /// <summary>The wording used whenever the endpoint lacks the immutability APIs (Azurite answers 501).</summary>
    public const string NotSupported = "immutability not supported by this endpoint";
}
