using System.Net;
using System.Security.Cryptography.X509Certificates;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Control;
using EtcdServerless.Agent.DataDirs;
using EtcdServerless.Agent.Http;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Agent.Security;
using EtcdServerless.Core.Members;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Agent;

/// <summary>Builds the agent's web host: Kestrel with mandatory mutual TLS, the member control of the configured mode, the API.</summary>
internal static class AgentHost
{
    /// <summary>Builds the host from validated options (started with <c>StartAsync</c>/<c>RunAsync</c> by the caller).</summary>
    public static WebApplication Build(AgentOptions options, string[]? args = null, Action<ILoggingBuilder>? logging = null)
    {
        Validate(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [] });
        if (logging is not null)
        {
            builder.Logging.ClearProviders();
            logging(builder.Logging);
        }

        var validator = new ClientCertificateValidator(options.Tls);
        var serverCertificate = X509Certificate2.CreateFromPemFile(options.Tls.CertFile, options.Tls.KeyFile);
        var listen = new Uri(options.ListenUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 1 << 20;
            void Https(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listenOptions) => listenOptions.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = serverCertificate,
                ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                CheckCertificateRevocation = false,
                ClientCertificateValidation = (certificate, _, _) =>
                {
                    var reason = validator.Check(certificate);
                    if (reason is not null)
                    {
                        var logger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("EtcdServerless.Agent.Tls");
                        Log.ClientRefused(logger, certificate.Subject, ClientCertificateValidator.Sha256Thumbprint(certificate), reason);
                    }

                    return reason is null;
                },
            });
            if (listen.Host is "localhost")
            {
                kestrel.ListenLocalhost(listen.Port, Https);
            }
            else if (listen.Host is "*" or "+" or "0.0.0.0")
            {
                kestrel.ListenAnyIP(listen.Port, Https);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(listen.Host.Trim('[', ']')), listen.Port, Https);
            }
        });

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(validator);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<EtcdTools>();
        builder.Services.AddSingleton<RestoreService>();
        builder.Services.AddSingleton(sp => CreateControl(options, sp.GetService<ILoggerFactory>()));
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        AgentEndpoints.Map(app);
        DataDirEndpoints.Map(app);
        Bundles.BundleEndpoints.Map(app);
        // Stop the supervised member with the host, before the container is torn down.
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            if (app.Services.GetRequiredService<IMemberControl>() is SupervisedMemberControl supervised)
            {
                supervised.Process.StopAsync().GetAwaiter().GetResult();
            }
        });
        app.Lifetime.ApplicationStarted.Register(() =>
            Log.Listening(app.Logger, options.MemberName, options.ListenUrl, options.ControlMode.ToString()));
        return app;
    }

    /// <summary>Starts the host and, in supervised mode with <c>StartOnLaunch</c>, the etcd member.</summary>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        app.Services.GetRequiredService<RestoreService>().DeleteLeftoverDeletions();
        var options = app.Services.GetRequiredService<AgentOptions>();
        if (options.ControlMode == MemberControlMode.Supervised && options.Supervised.StartOnLaunch)
        {
            await app.Services.GetRequiredService<IMemberControl>().StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static IMemberControl CreateControl(AgentOptions options, ILoggerFactory? loggers)
    {
        var timeout = TimeSpan.FromSeconds(options.CommandTimeoutSeconds);
        return options.ControlMode switch
        {
            MemberControlMode.Supervised => new SupervisedMemberControl(new EtcdProcess(
                new EtcdMemberConfig
                {
                    Name = options.MemberName,
                    DataDir = options.DataDir,
                    ClientUrl = options.Supervised.ClientUrl,
                    PeerUrl = options.Supervised.PeerUrl,
                    InitialCluster = options.Supervised.InitialCluster,
                    InitialClusterToken = options.Supervised.InitialClusterToken,
                    InitialClusterState = options.Supervised.InitialClusterState,
                    CertFile = options.Supervised.CertFile,
                    KeyFile = options.Supervised.KeyFile,
                    TrustedCaFile = options.Supervised.TrustedCaFile,
                    ClientCertAuth = options.Supervised.ClientCertAuth,
                    ExtraArguments = options.Supervised.ExtraArguments,
                    LogFile = options.Supervised.LogFile,
                },
                options.EtcdPath,
                loggers?.CreateLogger<EtcdProcess>() ?? NullLogger<EtcdProcess>.Instance)
            {
                StopGrace = TimeSpan.FromSeconds(options.Supervised.StopGraceSeconds),
            }),
            MemberControlMode.Systemd => new SystemdMemberControl(options.Systemd, timeout),
            MemberControlMode.StaticPod => new StaticPodMemberControl(options.StaticPod),
            MemberControlMode.Custom => new CustomMemberControl(options.Custom, timeout),
            _ => throw new InvalidOperationException($"Unknown Agent:ControlMode {options.ControlMode}."),
        };
    }

    /// <summary>Checks the options; throws one <see cref="ArgumentException"/> naming every missing or invalid key.</summary>
    internal static void Validate(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        Require(options.MemberName, "Agent:MemberName", errors);
        Require(options.DataDir, "Agent:DataDir", errors);
        Require(options.Tls.CertFile, "Agent:Tls:CertFile", errors);
        Require(options.Tls.KeyFile, "Agent:Tls:KeyFile", errors);
        if (!Uri.TryCreate(options.ListenUrl, UriKind.Absolute, out var listen) || listen.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"Agent:ListenUrl must be an https:// URL, got '{options.ListenUrl}'");
        }

        try
        {
            Bundles.BundleArchive.Roots(options.Bundle);
        }
        catch (ArgumentException ex)
        {
            errors.Add(ex.Message);
        }

        if (options.KeepPreviousDataDirs < 0)
        {
            errors.Add($"Agent:KeepPreviousDataDirs must be 0 (none once the member started) or more, got {options.KeepPreviousDataDirs}");
        }

        switch (options.ControlMode)
        {
            case MemberControlMode.Supervised:
                Require(options.Supervised.ClientUrl, "Agent:Supervised:ClientUrl", errors);
                Require(options.Supervised.PeerUrl, "Agent:Supervised:PeerUrl", errors);
                break;
            case MemberControlMode.Custom:
                Require(options.Custom.StopCommand, "Agent:Custom:StopCommand", errors);
                Require(options.Custom.StartCommand, "Agent:Custom:StartCommand", errors);
                Require(options.Custom.StatusCommand, "Agent:Custom:StatusCommand", errors);
                break;
            default:
                break;
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException($"invalid agent configuration: {string.Join("; ", errors)}");
        }
    }

    private static void Require(string? value, string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{name} is required");
        }
    }
}
