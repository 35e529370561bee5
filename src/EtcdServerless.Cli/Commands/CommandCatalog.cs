using System.CommandLine;

namespace EtcdServerless.Cli.Commands;

/// <summary>The top-level verbs. One line per area keeps merge conflicts between areas out of this file.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> Create(CliConsole console)
    {
        yield return SnapshotCommands.Create(console);
    }
}
