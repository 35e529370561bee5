using System.CommandLine;
using EtcdServerless.Cli.Composition;
using EtcdServerless.Cli.Serve;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Commands;

/// <summary><c>etcd-backup serve</c>: the schedules and the HTTP API, the same as the Function App.</summary>
internal static class ServeCommand
{
    public static Command Create(CliConsole console)
    {
        var config = CommonOptions.Config();
        var urls = new Option<string?>("--urls") { Description = "Listen URLs (';'-separated); overrides Api:Urls." };
        var command = new Command("serve", "Run the schedules and the HTTP API (same as the Function App).") { config, urls };
        CommandAction.Set(command, console, async (parse, ct) =>
        {
            var session = CliSession.Open(parse, config, console, LogLevel.Information, serveApi: true);
            await using var disposeSession = session.ConfigureAwait(false);
            var options = session.Configuration.Options;
            await session.Application.CleanupLeftoversAsync(ct).ConfigureAwait(false);
            var listen = parse.GetValue(urls) ?? options.Api.Urls;
            var server = await ApiServer.StartAsync(session.Application.Api, listen, session.LoggerFactory, services =>
            {
                services.AddSingleton(session.Application);
                services.AddSingleton(session.Application.Time);
                services.AddHostedService<ScheduledBackupService>();
                services.AddSingleton(session.Application.StatusReader);
                services.AddSingleton(session.Application.Metrics);
                services.AddSingleton<IReadOnlyList<string>>([.. options.Clusters.Keys]);
                services.AddHostedService<FreshnessMonitorService>();
                services.AddHostedService<ScheduledDrillService>();
                services.AddHostedService<ScheduledDeltaService>();
            }, metricsUrls: options.Api.MetricsUrls, cancellationToken: ct).ConfigureAwait(false);
            await using (server.ConfigureAwait(false))
            {
                var scheduled = options.Clusters.Count(c => !string.IsNullOrWhiteSpace(c.Value.Schedule));
                session.LoggerFactory.CreateLogger("EtcdServerless.Cli.Serve").ServeStarted(string.Join(", ", server.Addresses), scheduled);
                var metricsAt = server.MetricsAddresses.Count > 0 ? $"; metrics without key on {string.Join(", ", server.MetricsAddresses)}" : "";
                await console.Error.WriteLineAsync($"serving on {string.Join(", ", server.Addresses)}; {scheduled} scheduled cluster(s){metricsAt}; Ctrl+C to stop").ConfigureAwait(false);
                try
                {
                    await server.WaitForShutdownAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    // Ctrl+C is a normal stop for a server.
                }
            }

            return 0;
        });
        return command;
    }
}
