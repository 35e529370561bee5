namespace EtcdServerless.Core.Deltas;

/// <summary>Input of one delta capture run.</summary>
/// <param name="Cluster">Configured cluster name.</param>
internal sealed record DeltaCaptureRequest(string Cluster);

/// <summary>
/// What one capture run did. A broken chain is a result, not a fault: <see cref="NeedsFullBackup"/> tells the
/// caller to take a full backup at once (no base yet, or history compacted before it was captured).
/// </summary>
internal sealed record DeltaCaptureResult
{
    public required string Cluster { get; init; }

    public required bool Succeeded { get; init; }

    /// <summary>What happened, in one line.</summary>
    public string? Message { get; init; }

    /// <summary>The segment written (null when nothing was new, or on failure).</summary>
    public DeltaManifest? Segment { get; init; }

    /// <summary>The revision the chain now reaches (the last captured revision).</summary>
    public long CoveredRevision { get; init; }

    /// <summary>The chain could not continue: revisions were compacted before they were captured.</summary>
    public bool GapDetected { get; init; }

    /// <summary>A full backup must be taken now (a gap, or no full backup to start the chain from).</summary>
    public bool NeedsFullBackup { get; init; }

    /// <summary>Segments deleted because no retained full backup can replay them any more.</summary>
    public IReadOnlyList<string> PrunedSegments { get; init; } = [];
}
