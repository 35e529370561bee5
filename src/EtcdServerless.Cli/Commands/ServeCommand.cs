using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Run the schedules and the HTTP API (same as the Function App).</summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("serve", "Run the schedules and the HTTP API (same as the Function App).");
    }
}
