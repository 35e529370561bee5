namespace EtcdServerless.Agent.Configuration;

/// <summary>How the agent stops and starts its etcd member.</summary>
public enum MemberControlMode
{
    /// <summary>The agent runs etcd itself as a child process (tests, demo, simple hosts).</summary>
    Supervised,

    /// <summary><c>systemctl stop|start UNIT</c>.</summary>
    Systemd,

    /// <summary>kubeadm static pod: move the manifest out of the kubelet's folder to stop, back to start.</summary>
    StaticPod,

    /// <summary>User-given shell commands.</summary>
    Custom,
}

/// <summary>
/// Configuration of <c>etcd-backup-agent</c> (JSON file section <c>Agent</c>, every key overridable by environment
/// variables such as <c>Agent__DataDir</c>).
/// </summary>
public sealed class AgentOptions
{
    /// <summary>The etcd member this agent serves (its <c>--name</c>).</summary>
    public string MemberName { get; set; } = "";

    /// <summary>The member's data dir: the only thing on disk the agent touches (plus siblings it creates).</summary>
    public string DataDir { get; set; } = "";

    /// <summary>etcd binary (name on PATH or path).</summary>
    public string EtcdPath { get; set; } = "etcd";

    /// <summary>etcdctl binary.</summary>
    public string EtcdctlPath { get; set; } = "etcdctl";

    /// <summary>etcdutl binary; used for restore when present (etcd 3.5+).</summary>
    public string EtcdutlPath { get; set; } = "etcdutl";

    /// <summary>How the member is stopped and started.</summary>
    public MemberControlMode ControlMode { get; set; } = MemberControlMode.Supervised;

    /// <summary>Settings of <see cref="MemberControlMode.Supervised"/>.</summary>
    public SupervisedOptions Supervised { get; set; } = new();

    /// <summary>Settings of <see cref="MemberControlMode.Systemd"/>.</summary>
    public SystemdOptions Systemd { get; set; } = new();

    /// <summary>Settings of <see cref="MemberControlMode.StaticPod"/>.</summary>
    public StaticPodOptions StaticPod { get; set; } = new();

    /// <summary>Settings of <see cref="MemberControlMode.Custom"/>.</summary>
    public CustomControlOptions Custom { get; set; } = new();

    /// <summary>Shell commands run before the member is stopped (e.g. stop kube-apiserver).</summary>
    public List<string> PreStopHooks { get; set; } = [];

    /// <summary>Shell commands run after the member was started (e.g. start kube-apiserver again).</summary>
    public List<string> PostStartHooks { get; set; } = [];

    /// <summary>Timeout of each hook, control command and restore tool run, in seconds.</summary>
    public int CommandTimeoutSeconds { get; set; } = 300;

    /// <summary>HTTPS listen URL, e.g. <c>https://0.0.0.0:7443</c>.</summary>
    public string ListenUrl { get; set; } = "https://127.0.0.1:7443";

    /// <summary>Transport security of the agent's endpoint (mutual TLS is mandatory).</summary>
    public AgentTlsOptions Tls { get; set; } = new();

    /// <summary>
    /// How many replaced data dirs (<c>&lt;dataDir&gt;.before-&lt;restoreId&gt;</c>) to keep, newest first (default 1).
    /// Older copies are deleted by the next restore. 0 keeps none: the copy a restore makes still exists until the
    /// member started on the restored data (its rollback needs it), then it is deleted.
    /// </summary>
    public int KeepPreviousDataDirs { get; set; } = 1;

    /// <summary>
    /// Receive a restore's snapshot into a memory folder (tmpfs) instead of beside the data dir, when the folder and the
    /// memory this agent may use both hold it with 1 GiB to spare (default true). The member is stopped while the file
    /// exists, and it lives only until etcd's restore tool has copied it into the new data dir; it is never the only copy.
    /// Staging on disk writes every snapshot twice (the staging file, then the tool's copy).
    /// </summary>
    public bool StageUploadsInMemory { get; set; } = true;

    /// <summary>The memory folder of <see cref="StageUploadsInMemory"/> (default <c>/dev/shm</c>).</summary>
    public string? MemoryDirectory { get; set; }

    /// <summary>
    /// What the agent reports as its host in preflight (default: the kernel's boot id, which every agent, container
    /// included, on the same machine shares). Members on one host receive a restore's snapshot in turn, each restoring
    /// while the next receives; members on different hosts receive it at once. Set it only where the boot id does not
    /// tell machines apart (a sandbox with its own kernel per container reports a distinct id anyway).
    /// </summary>
    public string? HostId { get; set; }

    /// <summary>The control-plane bundle this agent serves to backups and puts back on restores (<c>Agent:Bundle</c>).</summary>
    public BundleOptions Bundle { get; set; } = new();

    /// <summary>Deliberate failures for restore drills and tests. Leave empty in production.</summary>
    public FaultOptions Faults { get; set; } = new();
}

/// <summary>The agent's server certificate and who may call it.</summary>
public sealed class AgentTlsOptions
{
    /// <summary>Server certificate (PEM).</summary>
    public string CertFile { get; set; } = "";

    /// <summary>Server key (PEM).</summary>
    public string KeyFile { get; set; } = "";

    /// <summary>A CA bundle (PEM): client certificates issued by it (with client-auth usage) are accepted.</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>Pinned client certificates by SHA-256 (or SHA-1) thumbprint, hex; any of them is accepted.</summary>
    public List<string> AllowedClientThumbprints { get; set; } = [];
}

/// <summary>Supervised mode: how to launch etcd.</summary>
public sealed class SupervisedOptions
{
    public string ClientUrl { get; set; } = "";

    public string PeerUrl { get; set; } = "";

    /// <summary>Used only when the data dir is empty (first bootstrap).</summary>
    public string? InitialCluster { get; set; }

    public string InitialClusterToken { get; set; } = "etcd-cluster";

    public string InitialClusterState { get; set; } = "new";

    public string? CertFile { get; set; }

    public string? KeyFile { get; set; }

    public string? TrustedCaFile { get; set; }

    public bool ClientCertAuth { get; set; }

    public List<string> ExtraArguments { get; set; } = [];

    /// <summary>etcd's log file; defaults to <c>&lt;dataDir&gt;.log</c>.</summary>
    public string? LogFile { get; set; }

    /// <summary>Start etcd when the agent starts.</summary>
    public bool StartOnLaunch { get; set; } = true;

    /// <summary>Seconds between SIGTERM and SIGKILL.</summary>
    public int StopGraceSeconds { get; set; } = 10;
}

/// <summary>systemd mode.</summary>
public sealed class SystemdOptions
{
    public string Unit { get; set; } = "etcd.service";

    public string SystemctlPath { get; set; } = "systemctl";
}

/// <summary>kubeadm static-pod mode.</summary>
public sealed class StaticPodOptions
{
    /// <summary>The etcd manifest in the kubelet's static pod folder.</summary>
    public string ManifestPath { get; set; } = "/etc/kubernetes/manifests/etcd.yaml";

    /// <summary>Where the manifest is parked while etcd is stopped (outside the kubelet's folder).</summary>
    public string ParkDirectory { get; set; } = "/etc/kubernetes/manifests-parked";

    /// <summary>The member's client URL, probed to know when the kubelet stopped or started the pod.</summary>
    public string ClientUrl { get; set; } = "https://127.0.0.1:2379";

    /// <summary>Seconds to wait for the kubelet to stop or start the pod.</summary>
    public int WaitSeconds { get; set; } = 120;
}

/// <summary>Custom mode: shell commands.</summary>
public sealed class CustomControlOptions
{
    public string StopCommand { get; set; } = "";

    public string StartCommand { get; set; } = "";

    /// <summary>Exit code 0 means the member runs.</summary>
    public string StatusCommand { get; set; } = "";
}

/// <summary>Injected failures (drills and tests).</summary>
public sealed class FaultOptions
{
    /// <summary>Fail the restore step after the new data dir was swapped in, as if the disk failed there.</summary>
    public bool FailRestoreAfterSwap { get; set; }
}
