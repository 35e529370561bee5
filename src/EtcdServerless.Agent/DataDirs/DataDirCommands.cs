using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.DataDirs;

/// <summary>
/// <c>etcd-backup-agent data-dirs list|remove NAME [--config F] [-o table|json]</c>: the same catalog as the agent's
/// <c>/v1/data-dirs</c> endpoints, on the local disk, for an operator on the member's host.
/// </summary>
internal static class DataDirCommands
{
    private static readonly JsonSerializerOptions s_json = new(AgentProtocol.Json) { WriteIndented = true };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("data-dirs", "List or remove the data dirs restores set aside (<dataDir>.before-<id>, .rolledback-<id>).");
        var list = new Command("list", "The live data dir and the kept copies, newest first.") { Config(), Output() };
        list.SetAction(parse => Run(parse, stderr, options =>
        {
            var dirs = new DataDirCatalog(options.DataDir).List();
            if (parse.GetValue<string>("--output") == "json")
            {
                stdout.WriteLine(JsonSerializer.Serialize(dirs, s_json));
                return;
            }

            var c = CultureInfo.InvariantCulture;
            stdout.WriteLine(string.Create(c, $"{"NAME",-48} {"KIND",-10} {"MODIFIED (UTC)",-20} {"SIZE",14}  NOTE"));
            foreach (var d in dirs)
            {
                stdout.WriteLine(string.Create(c, $"{d.Name,-48} {d.Kind,-10} {d.Modified.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {d.SizeBytes,14:N0}  {d.Pinned}"));
            }
        }));
        var name = new Argument<string>("NAME") { Description = "A name from 'data-dirs list' (never a path)." };
        var remove = new Command("remove", "Delete one kept copy; refuses the live data dir and a copy a restore under way needs.") { name, Config() };
        remove.SetAction(parse => Run(parse, stderr, options =>
        {
            var removed = new DataDirCatalog(options.DataDir).Remove(parse.GetValue(name)!);
            stdout.WriteLine($"removed {removed.Path}");
        }));
        command.Subcommands.Add(list);
        command.Subcommands.Add(remove);
        return command;
    }

    private static Option<FileInfo?> Config() => new("--config", "-c") { Description = "The agent's configuration file (its Agent:DataDir is used)." };

    private static Option<string> Output()
    {
        var output = new Option<string>("--output", "-o") { Description = "table or json.", DefaultValueFactory = _ => "table" };
        output.AcceptOnlyFromAmong("table", "json");
        return output;
    }

    private static int Run(ParseResult parse, TextWriter stderr, Action<AgentOptions> body)
    {
        try
        {
            body(AgentCommandLine.LoadOptions(parse.GetValue<FileInfo?>("--config")));
            return 0;
        }
        catch (Exception ex) when (ex is AgentRequestException or ArgumentException or InvalidOperationException or IOException
            or InvalidDataException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
    }
}
