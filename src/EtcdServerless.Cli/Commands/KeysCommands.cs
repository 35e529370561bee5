using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Create and rotate the key-encryption key.</summary>
internal static class KeysCommands
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("keys", "Create and rotate the key-encryption key.");
    }
}
