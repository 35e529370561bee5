using Microsoft.Extensions.Logging;
using EtcdServerless.Agent;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Restore;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Agent.Tests.Infrastructure;

/// <summary>
/// N real agents on loopback (mutual TLS, free ports), each supervising a real etcd member; the members form one
/// cluster (plain-http client and peer ports). Everything is stopped on dispose.
/// </summary>
internal sealed class AgentSet : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    private AgentSet(string root, IReadOnlyList<AgentOptions> options, IReadOnlyList<RestoreTargetMember> members)
    {
        Root = root;
        Options = options;
        Members = members;
    }

    public string Root { get; }

    public IReadOnlyList<AgentOptions> Options { get; }

    public IReadOnlyList<RestoreTargetMember> Members { get; }

    public IReadOnlyList<string> ClientUrls => [.. Members.Select(m => m.ClientUrl)];

    /// <summary>Creates and starts the agents (and, with <paramref name="startEtcd"/>, a fresh cluster under them).</summary>
    public static async Task<AgentSet> StartAsync(
        string root,
        TestCertificates certs,
        string prefix,
        int count = 3,
        bool startEtcd = true,
        Action<int, AgentOptions>? configure = null,
        Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        var names = Enumerable.Range(1, count).Select(i => $"{prefix}{i}").ToList();
        var peers = names.Select(_ => $"http://127.0.0.1:{FreePorts.Next()}").ToList();
        var initialCluster = string.Join(",", names.Zip(peers, (n, p) => $"{n}={p}"));
        var options = new List<AgentOptions>();
        var members = new List<RestoreTargetMember>();
        for (var i = 0; i < count; i++)
        {
            var client = $"http://127.0.0.1:{FreePorts.Next()}";
            var agentUrl = $"https://127.0.0.1:{FreePorts.Next()}";
            var o = new AgentOptions
            {
                MemberName = names[i],
                DataDir = Path.Combine(root, names[i] + ".etcd"),
                ListenUrl = agentUrl,
                ControlMode = MemberControlMode.Supervised,
                CommandTimeoutSeconds = 120,
                Supervised = new SupervisedOptions
                {
                    ClientUrl = client,
                    PeerUrl = peers[i],
                    InitialCluster = initialCluster,
                    InitialClusterToken = prefix + "-original",
                    StartOnLaunch = startEtcd,
                    StopGraceSeconds = 10,
                },
                Tls = new AgentTlsOptions { CertFile = certs.Server.CertPath, KeyFile = certs.Server.KeyPath, ClientCaFile = certs.CaCertPath },
            };
            configure?.Invoke(i, o);
            options.Add(o);
            members.Add(new RestoreTargetMember { Name = names[i], PeerUrl = peers[i], ClientUrl = client, AgentUrl = agentUrl });
        }

        var set = new AgentSet(root, options, members);
        try
        {
            // Start agents in parallel: etcd members of a new cluster wait for each other.
            foreach (var o in options)
            {
                set._apps.Add(AgentHost.Build(o, logging: b =>
                {
                    if (logs is not null)
                    {
                        b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
                    }
                }));
            }

            await Task.WhenAll(set._apps.Select(app => AgentHost.StartAsync(app)));
            if (startEtcd)
            {
                await set.WaitHealthyAsync();
            }
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }

        return set;
    }

    /// <summary>Waits until every member reports healthy.</summary>
    public async Task WaitHealthyAsync(TimeSpan? timeout = null)
    {
        using var probe = new EtcdHealthProbe();
        foreach (var m in Members)
        {
            Assert.True(await probe.WaitHealthyAsync(m.ClientUrl, timeout ?? TimeSpan.FromSeconds(60)), $"member {m.Name} did not become healthy");
        }
    }

    /// <summary>True when the agent's supervised etcd runs.</summary>
    public bool IsRunning(int index) => _apps[index].Services.GetRequiredService<Control.IMemberControl>().IsRunningAsync().Result;

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            try
            {
                await app.StopAsync();
            }
            finally
            {
                await app.DisposeAsync();
            }
        }
    }
}
