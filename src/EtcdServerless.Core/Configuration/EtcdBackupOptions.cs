namespace EtcdServerless.Core.Configuration;

/// <summary>
/// The whole configuration (docs/configuration.md): one JSON file, every key overridable by environment variables
/// with <c>__</c>, the same keys the Function App reads from app settings. Property names are the contract.
/// </summary>
public sealed class EtcdBackupOptions
{
    /// <summary>Where artifacts and manifests go. Empty = the embedded local WORM directory store.</summary>
    public StoreOptions Store { get; set; } = new();

    /// <summary>Where key-encryption keys live. Empty = the embedded local key directory.</summary>
    public KeysOptions Keys { get; set; } = new();

    /// <summary>Clusters by name.</summary>
    public Dictionary<string, ClusterOptions> Clusters { get; set; } = new(StringComparer.Ordinal);

    /// <summary>HTTP API settings of <c>serve</c>.</summary>
    public ApiOptions Api { get; set; } = new();

    /// <summary>How the restore orchestration reaches the member agents.</summary>
    public RestoreSettings Restore { get; set; } = new();

    /// <summary>Unknown configuration keys (typos) are errors instead of warnings.</summary>
    public bool StrictConfiguration { get; set; }
}

/// <summary>Restore settings (config section <c>Restore</c>).</summary>
public sealed class RestoreSettings
{
    /// <summary>Mutual TLS between the orchestrator and the member agents.</summary>
    public AgentTlsOptions AgentTls { get; set; } = new();
}

/// <summary>The orchestrator's client certificate for the agents, and how it trusts their server certificates.</summary>
public sealed class AgentTlsOptions
{
    /// <summary>The orchestrator's client certificate (PEM).</summary>
    public string? CertFile { get; set; }

    /// <summary>Key of <see cref="CertFile"/> (PEM).</summary>
    public string? KeyFile { get; set; }

    /// <summary>CA bundle that issued the agents' server certificates.</summary>
    public string? CaFile { get; set; }

    /// <summary>Pinned agent server certificates by thumbprint, as an alternative to <see cref="CaFile"/>.</summary>
    public List<string> ServerThumbprints { get; set; } = [];

    /// <summary>Timeout of one agent call other than the snapshot upload, in seconds.</summary>
    public int TimeoutSeconds { get; set; } = 300;
}

/// <summary>Backup store settings.</summary>
public sealed class StoreOptions
{
    /// <summary><c>file:///dir</c>, <c>https://acct.blob.core.windows.net/container</c>, an Azurite URL or <c>s3://bucket/prefix</c>.</summary>
    public string? Uri { get; set; }

    /// <summary>Settings of an <c>s3://</c> store (endpoint, region, credentials, encryption, Object Lock).</summary>
    public S3StoreOptions S3 { get; set; } = new();

    /// <summary>Days each artifact stays immutable after it is written.</summary>
    public int ImmutabilityDays { get; set; } = 7;

    /// <summary>Fail a backup when the store cannot enforce immutability (instead of warning).</summary>
    public bool RequireImmutability { get; set; }

    /// <summary>Shared Key account key for Azurite/dev (never for production; prefer managed identity).</summary>
    public string? AccountKey { get; set; }

    /// <summary>A SAS token, as an alternative credential.</summary>
    public string? SasToken { get; set; }
}

/// <summary>Key store settings.</summary>
public sealed class KeysOptions
{
    /// <summary><c>file:///dir</c> or <c>https://vault.vault.azure.net/secrets/name</c>.</summary>
    public string? Uri { get; set; }
}

/// <summary>One etcd cluster to back up.</summary>
public sealed class ClusterOptions
{
    /// <summary>Client URLs of (some of) the members; the rest are discovered with MemberList.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>TLS material for the etcd client port.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>etcd username/password authentication.</summary>
    public EtcdAuthOptions Auth { get; set; } = new();

    /// <summary>NCRONTAB (six fields, with seconds) schedule of automatic backups; empty = on demand only.</summary>
    public string? Schedule { get; set; }

    /// <summary>
    /// Age after which the newest backup counts as stale (<c>backup status</c> exits 1); default twice the
    /// schedule's interval. A TimeSpan (<c>01:00:00</c>).
    /// </summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Which backups to keep.</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Members with their agents, for restore.</summary>
    public List<MemberOptions> Members { get; set; } = [];

    /// <summary>The control-plane bundle stored with every backup (<c>Clusters:NAME:Bundle</c>); off unless an agent URL is set.</summary>
    public ClusterBundleOptions Bundle { get; set; } = new();

    /// <summary>Restore drills of this cluster's backups: where they run and when.</summary>
    public ClusterDrillOptions Drill { get; set; } = new();

    /// <summary>Continuous protection: watch-based delta segments between full backups.</summary>
    public DeltaOptions Deltas { get; set; } = new();
}

/// <summary>Delta capture settings of a cluster (config section <c>Clusters:NAME:Deltas</c>).</summary>
public sealed class DeltaOptions
{
    /// <summary>How often a delta segment is captured (<c>00:01:00</c>); empty = only on demand (<c>backup deltas</c>).</summary>
    public TimeSpan? Interval { get; set; }

    /// <summary>
    /// An agent (<c>https://</c>, mutual TLS with <c>Restore:AgentTls</c>) that materializes point-in-time restores on
    /// its host; empty = the cluster's <c>Drill:AgentUrl</c>, and without that too, here (etcd must be installed). A
    /// Function App needs one of the two.
    /// </summary>
    public string? MaterializeAgentUrl { get; set; }

    /// <summary>Where point-in-time materialization runs for <paramref name="cluster"/>: its agent URL, or null for this host.</summary>
    public static string? AgentUrlFor(ClusterOptions? cluster) =>
        !string.IsNullOrWhiteSpace(cluster?.Deltas?.MaterializeAgentUrl) ? cluster.Deltas.MaterializeAgentUrl
        : !string.IsNullOrWhiteSpace(cluster?.Drill?.AgentUrl) ? cluster.Drill.AgentUrl
        : null;
}

/// <summary>TLS material, by file (or, on Azure, by Key Vault secret URI).</summary>
public sealed class TlsOptions
{
    /// <summary>CA bundle that signed the etcd server certificates.</summary>
    public string? CaFile { get; set; }

    /// <summary>Client certificate (PEM) for mutual TLS.</summary>
    public string? CertFile { get; set; }

    /// <summary>Client private key (PEM) for mutual TLS.</summary>
    public string? KeyFile { get; set; }
}

/// <summary>etcd user credentials. The password is read from a file or secret, never from the command line history.</summary>
public sealed class EtcdAuthOptions
{
    /// <summary>etcd user name.</summary>
    public string? Username { get; set; }

    /// <summary>etcd password (prefer <see cref="PasswordFile"/>).</summary>
    public string? Password { get; set; }

    /// <summary>A file holding the password.</summary>
    public string? PasswordFile { get; set; }
}

/// <summary>Retention policy: keep-last N plus grandfather-father-son tiers.</summary>
public sealed class RetentionOptions
{
    public int KeepLast { get; set; } = 4;

    public int Hourly { get; set; } = 24;

    public int Daily { get; set; } = 7;

    public int Weekly { get; set; } = 4;

    public int Monthly { get; set; } = 6;

    /// <summary>
    /// Delete backups older than this many days even when a count or tier would keep them (0: no age
    /// limit). The safety rules still win: the newest verified backup is never deleted for its age.
    /// </summary>
    public int MaxAgeDays { get; set; }
}

/// <summary>One etcd member as a restore target.</summary>
public sealed class MemberOptions
{
    public string Name { get; set; } = "";

    public string PeerUrl { get; set; } = "";

    public string ClientUrl { get; set; } = "";

    public string AgentUrl { get; set; } = "";
}

/// <summary>HTTP API settings (<c>serve</c>).</summary>
public sealed class ApiOptions
{
    /// <summary>URLs to listen on, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>The API key callers must send in <c>x-api-key</c> (or <c>x-functions-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// The most finished runs (backups, restores) whose status the in-process engine of <c>serve</c> and the CLI
    /// keeps in memory; older ones read as unknown (404). Running ones are always kept.
    /// </summary>
    public int KeepFinishedRuns { get; set; } = 1000;

    /// <summary>How long after it finished a run's status stays readable, in minutes (also bounded by <see cref="KeepFinishedRuns"/>).</summary>
    public int KeepFinishedRunsMinutes { get; set; } = 60;

    /// <summary>
    /// Optional listen URLs (';'-separated) of a second listener that serves only <c>/metrics</c> (and <c>/healthz</c>)
    /// without the API key, for a private interface or port a Prometheus scraper reaches; unset, <c>/metrics</c> is on
    /// the API's listener behind the key.
    /// </summary>
    public string? MetricsUrls { get; set; }
}
