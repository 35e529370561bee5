namespace EtcdServerless.Core.Configuration;

/// <summary>Restore drills of one cluster (config section <c>Clusters:C:Drill</c>).</summary>
public sealed class ClusterDrillOptions
{
    /// <summary>
    /// NCRONTAB (six fields, with seconds) schedule of automatic drills of the cluster's latest backup, the same rule
    /// as <see cref="ClusterOptions.Schedule"/>; empty = on demand only.
    /// </summary>
    public string? Schedule { get; set; }

    /// <summary>
    /// An agent (<c>https://</c>, mutual TLS with <c>Restore:AgentTls</c>) that runs the drill on its host; empty = the
    /// drill runs where the command runs (etcd must be installed there). A Function App always needs one.
    /// </summary>
    public string? AgentUrl { get; set; }
}
