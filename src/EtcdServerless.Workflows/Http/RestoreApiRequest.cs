namespace EtcdServerless.Workflows.Http;

/// <summary>A validated restore request as the API and the CLI take it.</summary>
internal sealed record RestoreApiRequest
{
    public required string Cluster { get; init; }

    public string Backup { get; init; } = "latest";

    public bool DryRun { get; init; }

    public string? Confirm { get; init; }

    public string? Reason { get; init; }

    public string? NewClusterToken { get; init; }

    public bool ForceVersion { get; init; }

    public bool RestoreBundle { get; init; }

    /// <summary>Point in time: the revision to restore.</summary>
    public long? ToRevision { get; init; }

    /// <summary>Point in time: the newest revision captured by this time.</summary>
    public DateTimeOffset? ToTime { get; init; }

    public IReadOnlyList<RestoreApiMember> Members { get; init; } = [];
}

/// <summary>A restore target member in an API request.</summary>
internal sealed record RestoreApiMember
{
    public string? Name { get; init; }

    public string? PeerUrl { get; init; }

    public string? ClientUrl { get; init; }

    public string? AgentUrl { get; init; }
}
