using System.CommandLine;
using EtcdServerless.Agent.Configuration;

namespace EtcdServerless.Agent;

/// <summary>
/// <c>etcd-backup-agent [--config FILE]</c>: parses the command line, loads the <c>Agent</c> section (file, then
/// environment variables such as <c>Agent__DataDir</c>), validates it naming every missing or invalid key, and runs
/// the agent. Errors are one line on stderr and exit code 1 (2 for usage errors); never an unhandled exception.
/// </summary>
internal static class AgentCommandLine
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null, CancellationToken cancellationToken = default)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var config = new Option<FileInfo?>("--config", "-c")
        {
            Description = "JSON file with an \"Agent\" section (see docs/operations.md); environment variables such as Agent__DataDir override it.",
        };
        var root = new RootCommand("etcd-backup-agent: the member side of a restore (stop, restore the data dir, start), over mutual TLS.") { config };
        root.SetAction(async (parse, ct) => await RunAgentAsync(parse.GetValue(config), stderr, ct).ConfigureAwait(false));
        root.Subcommands.Add(DataDirs.DataDirCommands.Create(stdout, stderr));
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            await stderr.WriteLineAsync($"error: {parseResult.Errors[0].Message.ReplaceLineEndings(" ")} (see 'etcd-backup-agent --help')").ConfigureAwait(false);
            return 2;
        }

        return await parseResult.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads and validates the options; throws with one message naming the key(s) at fault.</summary>
    internal static AgentOptions LoadOptions(FileInfo? configFile, IEnumerable<KeyValuePair<string, string?>>? environment = null)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            if (!configFile.Exists)
            {
                throw new FileNotFoundException($"configuration file '{configFile.FullName}' does not exist");
            }

            builder.AddJsonFile(configFile.FullName, optional: false, reloadOnChange: false);
        }

        if (environment is null)
        {
            builder.AddEnvironmentVariables();
        }
        else
        {
            builder.AddInMemoryCollection(environment);
        }

        IConfigurationRoot configuration;
        try
        {
            configuration = builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            throw new InvalidDataException($"configuration file '{configFile?.FullName}' is not valid JSON: {ex.InnerException?.Message ?? ex.Message}", ex);
        }

        AgentOptions options;
        try
        {
            options = configuration.GetSection("Agent").Get<AgentOptions>() ?? new AgentOptions();
        }
        catch (InvalidOperationException ex)
        {
            // The binder names the key it could not convert (e.g. "Agent:ControlMode").
            throw new InvalidOperationException($"invalid configuration: {ex.Message}", ex);
        }

        AgentHost.Validate(options);
        return options;
    }

    private static async Task<int> RunAgentAsync(FileInfo? configFile, TextWriter stderr, CancellationToken cancellationToken)
    {
        try
        {
            var options = LoadOptions(configFile);
            var app = AgentHost.Build(options);
            await using (app.ConfigureAwait(false))
            {
                await AgentHost.StartAsync(app, cancellationToken).ConfigureAwait(false);
                await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                return 0;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or InvalidDataException
            or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or System.Net.Sockets.SocketException)
        {
            await stderr.WriteLineAsync($"error: {ex.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return 1;
        }
#pragma warning disable CA1031 // The process boundary: anything else is still one line and exit 1, not a crash dump.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await stderr.WriteLineAsync($"error: unexpected {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}").ConfigureAwait(false);
            return 1;
        }
    }
}
