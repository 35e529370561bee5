using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Start a throwaway etcd cluster, back it up, verify and restore it.</summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("demo", "Start a throwaway etcd cluster, back it up, verify and restore it.");
    }
}
