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
        return await RunAsync(args, console, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses and runs against <paramref name="console"/> (its writers, raw output and clock).</summary>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(console);
        var root = BuildRootCommand(console);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // One clear line, not the parser's multi-line error block and help dump.
            await console.Error.WriteLineAsync($"error: {parseResult.Errors[0].Message.ReplaceLineEndings(" ")} (see '{string.Join(' ', CommandPath(parseResult))} --help')").ConfigureAwait(false);
            return Commands.CommandAction.UsageError;
        }

        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }

    private static Stack<string> CommandPath(ParseResult parseResult)
    {
        var names = new Stack<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(result.Command is RootCommand ? "etcd-backup" : result.Command.Name);
        }

        return names;
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
