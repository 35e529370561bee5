using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Print hash, revision, total keys and size of a snapshot file (as etcdctl snapshot status).</summary>
internal static class SnapshotStatusCommand
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("status", "Print hash, revision, total keys and size of a snapshot file (as etcdctl snapshot status).");
    }
}
