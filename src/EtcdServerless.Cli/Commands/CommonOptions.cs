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

    /// <summary><c>-o table|json</c> (table by default).</summary>
    public static Option<OutputFormat> Output() => new("--output", "-o")
    {
        Description = "Output format: table or json.",
        DefaultValueFactory = _ => OutputFormat.Table,
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
