using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>Stream a verified snapshot from etcd to a file (etcdctl-compatible).</summary>
internal static class SnapshotSaveCommand
{
    public static Command Create(CliConsole console)
    {
        // Placeholder until its area lands; owner replaces this file.
        _ = console;
        return new Command("save", "Stream a verified snapshot from etcd to a file (etcdctl-compatible).");
    }
}
