using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Orchestration;

namespace EtcdServerless.Cli.Composition;

/// <summary>
/// What the HTTP API, the scheduler and the verbs ask of the product: start and observe backup and restore
/// orchestrations, read the catalog. One implementation (<see cref="BackupApplication"/>) over the in-process
/// runner; the Function App has the same operations over Durable.
/// </summary>
internal interface IBackupOperations
{
    /// <summary>True when the cluster is configured.</summary>
    bool IsKnownCluster(string cluster);

    /// <summary>Starts a backup of <paramref name="cluster"/>, or returns the one already running for it.</summary>
    Task<OrchestrationStartResult> StartBackupAsync(string cluster, string trigger, CancellationToken cancellationToken = default);

    /// <summary>Starts a restore (or dry-run plan) of <paramref name="request"/>'s cluster, or returns the one already running.</summary>
    Task<OrchestrationStartResult> StartRestoreAsync(RestoreApiRequest request, CancellationToken cancellationToken = default);

    /// <summary>The state of an instance, or null.</summary>
    OrchestrationState? GetInstance(string instanceId);

    /// <summary>The cluster's backups, oldest first.</summary>
    Task<IReadOnlyList<BackupManifest>> ListBackupsAsync(string cluster, CancellationToken cancellationToken = default);
}

/// <summary>A validated restore request as the API and the CLI take it.</summary>
internal sealed record RestoreApiRequest
{
    public required string Cluster { get; init; }

    public string Backup { get; init; } = "latest";

    public bool DryRun { get; init; }

    public string? Confirm { get; init; }

    public string? Reason { get; init; }

    public string? NewClusterToken { get; init; }

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
