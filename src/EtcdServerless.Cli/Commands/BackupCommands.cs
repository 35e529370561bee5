using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Run, list, describe, verify and prune backups.</summary>
internal static class BackupCommands
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("backup", "Run, list, describe, verify and prune backups.");
    }
}
