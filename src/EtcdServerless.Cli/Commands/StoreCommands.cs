using System.CommandLine;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Storage;
using EtcdServerless.Workflows.Composition;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Commands;

/// <summary><c>etcd-backup store init</c>: prepare an empty backup store and report how it is protected.</summary>
internal static class StoreCommands
{
    public static Command Create(CliConsole console)
    {
        var store = new Command("store", "Prepare the backup store named by Store:Uri.");
        store.Subcommands.Add(Init(console));
        return store;
    }

    private static Command Init(CliConsole console)
    {
        var config = CommonOptions.Config();
        var output = CommonOptions.Output();
        var command = new Command("init",
            "Create the store's container (Azure Blob) or folder (local) when it is missing and the credentials allow it, "
            + "and report the immutability protection found (warns when there is none). Safe to run again.")
        {
            config,
            output,
        };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var options = ConfigurationLoader.Load(parse.GetValue(config)?.FullName).Options;
            using var loggerFactory = CliLogging.Create(console, parse.GetValue(CommonOptions.Verbose) ? LogLevel.Debug : LogLevel.Warning);
            var store = StoreFactory.CreateBackupStore(options.Store, TimeProvider.System, loggerFactory);
            var result = await store.InitializeAsync(ct).ConfigureAwait(false);
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await CliJson.WriteAsync(console.Out, result, ct).ConfigureAwait(false);
            }
            else
            {
                await PrintTableAsync(console.Out, result, ct).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static async Task PrintTableAsync(TextWriter writer, StoreInitResult result, CancellationToken cancellationToken)
    {
        await writer.WriteLineAsync($"store:         {result.Store}".AsMemory(), cancellationToken).ConfigureAwait(false);
        await writer.WriteLineAsync($"created:       {(result.Created ? "yes" : "no (it already existed)")}".AsMemory(), cancellationToken).ConfigureAwait(false);
        await writer.WriteLineAsync($"immutability:  {result.Immutability}".AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var warning in result.Warnings)
        {
            await writer.WriteLineAsync($"warning:       {warning}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }
}
