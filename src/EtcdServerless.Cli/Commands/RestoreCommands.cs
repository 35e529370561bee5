using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Restore a whole cluster from a backup through the member agents.</summary>
internal static class RestoreCommands
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("restore", "Restore a whole cluster from a backup through the member agents.");
    }
}
