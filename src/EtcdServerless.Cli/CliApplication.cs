using System.CommandLine;
using EtcdServerless.Cli.Commands;

namespace EtcdServerless.Cli;

/// <summary>Builds the <c>etcd-backup</c> command tree and runs it with the house error policy.</summary>
internal static class CliApplication
{
    /// <summary>Parses and runs; returns the process exit code (0 only on success).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(stdout ?? Console.Out, stderr ?? Console.Error);
        var root = BuildRootCommand(console);
        var parseResult = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The command tree. Each area adds its verbs in its own file under Commands/.</summary>
    internal static RootCommand BuildRootCommand(CliConsole console)
    {
        var root = new RootCommand("etcd-backup: verified, encrypted, off-site etcd backups and one-call restores.");
        root.Options.Add(CommonOptions.Verbose);
        foreach (var command in CommandCatalog.Create(console))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }
}
