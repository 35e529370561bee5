using System.Text.Json;
using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Restore;

/// <summary>
/// The wire contract between the restore orchestration and the member agent (<c>etcd-backup-agent</c>), JSON with
/// camelCase names. Both sides use these records so they cannot drift apart.
/// </summary>
internal static class AgentProtocol
{
    /// <summary>Header carrying the lowercase hex SHA-256 of the whole uploaded snapshot (database plus etcd's trailer).</summary>
    public const string SnapshotSha256Header = "X-Snapshot-Sha256";

    /// <summary>Optional header: lowercase hex SHA-256 of the database bytes alone (what etcd's 32-byte trailer holds).</summary>
    public const string SnapshotDbSha256Header = "X-Snapshot-Db-Sha256";

    /// <summary>Header carrying the lowercase hex SHA-256 of a control-plane bundle (tar), both ways.</summary>
    public const string BundleSha256Header = "X-Bundle-Sha256";

    /// <summary>Serializer settings of the agent API.</summary>
    public static readonly JsonSerializerOptions Json = CreateJson();

    /// <summary>True when <paramref name="restoreId"/> is safe to use in file names and URLs.</summary>
    public static bool IsValidRestoreId(string? restoreId) =>
        !string.IsNullOrEmpty(restoreId) && restoreId.Length <= 64 && restoreId[0] != '.'
        && restoreId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = false };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>What an agent reports before a restore: tools, versions, disk space, member state.</summary>
internal sealed record AgentPreflight
{
    public required string MemberName { get; init; }

    public required string ControlMode { get; init; }

    /// <summary>Version printed by <c>etcd --version</c>, or null when etcd is not found.</summary>
    public string? EtcdVersion { get; init; }

    public required bool EtcdPresent { get; init; }

    public required bool EtcdctlPresent { get; init; }

    public required bool EtcdutlPresent { get; init; }

    /// <summary>The tool the agent restores with (<c>etcdutl</c> when present, else <c>etcdctl</c>).</summary>
    public string? RestoreTool { get; init; }

    /// <summary>Whether the restore tool has <c>--bump-revision</c>/<c>--mark-compacted</c> (etcdctl 3.4.27+, etcdutl 3.5.10+).</summary>
    public required bool SupportsBumpRevision { get; init; }

    public required string DataDir { get; init; }

    public required bool DataDirExists { get; init; }

    /// <summary>Free bytes on the file system holding the data dir.</summary>
    public required long FreeBytes { get; init; }

    /// <summary>The snapshot size the check was made for (0 when not given).</summary>
    public long SnapshotSize { get; init; }

    /// <summary>Free space is at least twice the snapshot (the staged file plus the restored data dir).</summary>
    public required bool EnoughSpace { get; init; }

    public required bool MemberRunning { get; init; }

    /// <summary>
    /// The machine the agent runs on (<c>Agent:HostId</c>, else the kernel's boot id); null when unknown (an older
    /// agent, or no boot id). Members on one host receive a restore's snapshot in turn.
    /// </summary>
    public string? HostId { get; init; }

    /// <summary>Problems that make a restore on this member impossible (empty when ready).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}

/// <summary>Body of <c>POST /v1/restores/{id}/restore</c>: the bootstrap settings of the restored member.</summary>
internal sealed record MemberRestoreRequest
{
    /// <summary>The member's <c>--name</c>; must appear in <see cref="InitialCluster"/>.</summary>
    public required string Name { get; init; }

    /// <summary><c>name=peerUrl,...</c> of every member of the restored cluster (the same on every member).</summary>
    public required string InitialCluster { get; init; }

    /// <summary>This member's peer URL(s), comma-separated.</summary>
    public required string InitialAdvertisePeerUrls { get; init; }

    /// <summary>The cluster token (the same on every member; a new one gives new member and cluster IDs).</summary>
    public required string Token { get; init; }

    /// <summary>Revisions to add on top of the snapshot's (needs tool support).</summary>
    public long? BumpRevision { get; init; }

    /// <summary>Mark the revisions before the bump as compacted (needs tool support; goes with <see cref="BumpRevision"/>).</summary>
    public bool? MarkCompacted { get; init; }

    /// <summary>
    /// Read the staged snapshot for its revision and live keys beside the tool (default true). Every member receives the
    /// same verified bytes, so a restore asks one member and the others skip a full read of the snapshot.
    /// </summary>
    public bool? Inspect { get; init; }
}

/// <summary>Where one member is in a restore.</summary>
internal enum AgentRestoreState
{
    Created,
    Stopped,
    SnapshotReceived,
    Restored,
    Started,
    RolledBack,
    Failed,
}

/// <summary>One step an agent ran for a restore.</summary>
internal sealed record AgentStep
{
    public required string Name { get; init; }

    /// <summary><c>succeeded</c> or <c>failed</c>.</summary>
    public required string Outcome { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required DateTimeOffset Finished { get; init; }

    public double DurationMs => (Finished - Started).TotalMilliseconds;

    /// <summary>What was done (e.g. the command line) or why it failed.</summary>
    public string? Detail { get; init; }
}

/// <summary>The persisted state of one restore on one agent (<c>GET /v1/restores/{id}</c>).</summary>
internal sealed record AgentRestoreStatus
{
    public required string RestoreId { get; init; }

    public required string MemberName { get; init; }

    public required AgentRestoreState State { get; init; }

    public required string DataDir { get; init; }

    /// <summary>Where the previous data dir was moved (kept, never deleted), once swapped.</summary>
    public string? BeforeDir { get; init; }

    /// <summary>True while the restored data dir sits in place of the original one.</summary>
    public bool Swapped { get; init; }

    public string? SnapshotSha256 { get; init; }

    public long? SnapshotSize { get; init; }

    /// <summary>Revision of the received snapshot (from the agent's own inspection of the file).</summary>
    public long? SnapshotRevision { get; init; }

    /// <summary>Distinct live user keys in the received snapshot: what a count-only Range must return after the restore.</summary>
    public long? SnapshotLiveKeys { get; init; }

    public MemberRestoreRequest? Request { get; init; }

    /// <summary>The command that restored the data dir.</summary>
    public string? Command { get; init; }

    public bool MemberRunning { get; init; }

    public string? LastError { get; init; }

    public IReadOnlyList<AgentStep> Steps { get; init; } = [];
}
