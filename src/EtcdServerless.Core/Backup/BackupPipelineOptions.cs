using EtcdServerless.Core.Crypto;

namespace EtcdServerless.Core.Backup;

/// <summary>Knobs of the backup pipeline that are not part of the cluster configuration.</summary>
internal sealed record BackupPipelineOptions
{
    /// <summary>How artifacts are sealed (default: zstd blocks at the fastest level, default chunk size).</summary>
    public EnvelopeOptions Envelope { get; init; } = EnvelopeOptions.Default;

    /// <summary>
    /// A backup whose key count is below (1 - this) times the previous backup's is flagged as a possible mass
    /// deletion (default 0.5: a drop of more than half). 0 disables the check.
    /// </summary>
    public double KeyCountDropThreshold { get; init; } = 0.5;

    /// <summary>After the snapshot, compare HashKV at its revision on every member (default off).</summary>
    public bool ConsistencyCheck { get; init; }

    /// <summary>Time allowed for each member's Status while choosing the source (default 5 s).</summary>
    public TimeSpan StatusTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A member whose applied index lags the leader's by more than this is not a source (default 1000).</summary>
    public ulong MaxAppliedIndexLag { get; init; } = 1000;

    /// <summary>Where snapshots are staged for inspection (default: the system temp folder).</summary>
    public string? TempDirectory { get; init; }
}
