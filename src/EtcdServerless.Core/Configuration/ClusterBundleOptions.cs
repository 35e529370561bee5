namespace EtcdServerless.Core.Configuration;

/// <summary>
/// <c>Clusters:NAME:Bundle</c>: which member agent each backup asks for the control-plane bundle (static pod manifests,
/// PKI, encryption configuration: the files listed in that agent's <c>Agent:Bundle:Paths</c>). The call uses the
/// agents' mutual TLS settings, <c>Restore:AgentTls</c>.
/// </summary>
public sealed class ClusterBundleOptions
{
    /// <summary>The agent to ask, e.g. <c>https://10.0.0.11:7443</c>; empty = no bundle.</summary>
    public string? AgentUrl { get; set; }
}
