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

    /// <summary><c>-o table|json</c> (table by default).</summary>
    public static Option<OutputFormat> Output() => new("--output", "-o")
    {
        Description = "Output format: table or json.",
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    /// <summary><c>--config F</c>.</summary>
    public static Option<FileInfo?> Config() => new("--config")
    {
        Description = "Configuration file (JSON). Environment variables override it (ETCDBACKUP_ prefix... see docs/configuration.md).",
    };
}

/// <summary>How a verb prints its result.</summary>
internal enum OutputFormat
{
    Table,
    Json,
}
