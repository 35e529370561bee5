using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary><c>etcd-backup snapshot save|status</c>.</summary>
internal static class SnapshotCommands
{
    public static Command Create(CliConsole console)
    {
        var snapshot = new Command("snapshot", "Save and inspect etcd snapshots (etcdctl-compatible files).");
        snapshot.Subcommands.Add(SnapshotSaveCommand.Create(console));
        snapshot.Subcommands.Add(SnapshotStatusCommand.Create(console));
        return snapshot;
    }
}
