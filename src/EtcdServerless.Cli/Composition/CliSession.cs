using System.CommandLine;
using EtcdServerless.Cli.Commands;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Composition;

/// <summary>One verb's configured application and logging, disposed together.</summary>
internal sealed class CliSession : IAsyncDisposable
{
    private CliSession(LoadedConfiguration configuration, ILoggerFactory loggerFactory, BackupApplication application)
    {
        Configuration = configuration;
        LoggerFactory = loggerFactory;
        Application = application;
    }

    public LoadedConfiguration Configuration { get; }

    public ILoggerFactory LoggerFactory { get; }

    public BackupApplication Application { get; }

    /// <summary>Loads the configuration named by <paramref name="configOption"/> and composes the application.</summary>
    public static CliSession Open(ParseResult parseResult, Option<FileInfo?> configOption, CliConsole console, LogLevel minimum = LogLevel.Warning, bool serveApi = false)
    {
        var verbose = parseResult.GetValue(CommonOptions.Verbose);
        var configuration = ConfigurationLoader.Load(parseResult.GetValue(configOption)?.FullName);
        foreach (var warning in configuration.Warnings)
        {
            console.Error.WriteLine($"warning: {warning}");
        }

        var apiKey = configuration.Options.Api.ApiKey;
        if (serveApi)
        {
            // Refused before anything starts: a short key is as good as none against guessing.
            _ = Workflows.Http.ApiKey.FromSetting(apiKey, "serve: set Api:ApiKey in the config file or the Api__ApiKey environment variable");
        }

        var loggerFactory = CliLogging.Create(console, verbose ? LogLevel.Debug : minimum);
        try
        {
            return new CliSession(configuration, loggerFactory, BackupApplication.Create(configuration.Options, loggerFactory, console.Time, apiKey: serveApi ? apiKey : null));
        }
        catch
        {
            loggerFactory.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Application.DisposeAsync().ConfigureAwait(false);
        LoggerFactory.Dispose();
    }
}
