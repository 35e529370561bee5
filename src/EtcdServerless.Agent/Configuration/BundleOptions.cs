namespace EtcdServerless.Agent.Configuration;

/// <summary>
/// <c>Agent:Bundle</c>: the control-plane files served as a tar stream to backups (<c>GET /v1/bundle</c>) and the only
/// places a restore may write a bundle back to (<c>PUT /v1/restores/{id}/bundle</c>).
/// </summary>
public sealed class BundleOptions
{
    /// <summary>
    /// Absolute paths of files or directories, e.g. <c>/etc/kubernetes/manifests</c>, <c>/etc/kubernetes/pki</c>,
    /// <c>/etc/kubernetes/enc/encryption-config.yaml</c>. Empty = the agent serves no bundle.
    /// </summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>Refuse to collect or accept more than this many bytes of file content (a guard against a path such as <c>/</c>).</summary>
    public long MaxBytes { get; set; } = 64L << 20;
}
