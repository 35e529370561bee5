using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Options shared by many verbs. Create per-command instances through the factory methods.</summary>
internal static class CommonOptions
{
    /// <summary>Shows stack traces and debug logs.</summary>
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show debug output and full exception details.",
        Recursive = true,
    };

    /// <summary><c>--cluster NAME</c>: one configured cluster (all when omitted).</summary>
    public static Option<string?> Cluster() => new("--cluster", "-c")
    {
        Description = "A configured cluster name (default: every configured cluster).",
    };

    /// <summary><c>-o table|json</c> (table by default); etcdctl's <c>-w/--write-out</c> is the same option.</summary>
    public static Option<OutputFormat> Output() => new("--output", "-o", "--write-out", "-w")
    {
        Description = "Output format: table or json (-w/--write-out as in etcdctl).",
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    /// <summary>
    /// <c>--dial-timeout</c> as etcdctl takes it (a Go duration such as <c>5s</c>, <c>500ms</c>, <c>1m30s</c>),
    /// defaulting to <c>ETCDCTL_DIAL_TIMEOUT</c>, else 5 seconds.
    /// </summary>
    public static Option<TimeSpan> DialTimeout() => new("--dial-timeout")
    {
        Description = "Connect timeout per member, e.g. 5s, 500ms, 1m (default $ETCDCTL_DIAL_TIMEOUT, else 5s).",
        DefaultValueFactory = result => EtcdctlEnvironment.Read("ETCDCTL_DIAL_TIMEOUT") is { } env
            ? GoDuration.Parse(result, env, "ETCDCTL_DIAL_TIMEOUT")
            : TimeSpan.FromSeconds(5),
        CustomParser = result => GoDuration.Parse(result, result.Tokens.Count == 1 ? result.Tokens[0].Value : "", "--dial-timeout"),
    };

    /// <summary><c>--config F</c>.</summary>
    public static Option<FileInfo?> Config() => new("--config")
    {
        Description = "Configuration file (JSON); default $ETCD_BACKUP_CONFIG, else the config.json beside the default key directory. Environment variables override any key with '__' as separator and no prefix (e.g. Store__Uri), as Function App settings do; see docs/configuration.md.",
    };
}

/// <summary>How a verb prints its result.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}
