using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>The top-level verbs, each built in its own file.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> Create(CliConsole console)
    {
        yield return SnapshotCommands.Create(console);
        var backup = BackupCommands.Create(console);
        BackupBrowseCommands.AddTo(backup, console);
        backup.Subcommands.Add(BackupStatusCommand.Create(console));
        backup.Subcommands.Add(BackupDrillCommand.Create(console));
        BackupDeltasCommands.AddTo(backup, console);
        yield return backup;
        yield return RestoreCommands.Create(console);
        yield return ServeCommand.Create(console);
        yield return KeysCommands.Create(console);
        yield return StoreCommands.Create(console);
        yield return DemoCommand.Create(console);
    }
}
