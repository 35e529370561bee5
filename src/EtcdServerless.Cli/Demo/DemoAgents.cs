using System.Net;
using System.Net.Sockets;
using EtcdServerless.Agent;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Control;
using EtcdServerless.Core.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Demo;

/// <summary>
/// The demo's throwaway cluster: one in-process member agent per etcd member, each supervising its member as a
/// child process (the agents, not the demo, stop, restore and start the members), with mutual TLS on loopback
/// free ports. Disposing stops every agent and with it every member.
/// </summary>
internal sealed class DemoAgents : IAsyncDisposable
{
    private readonly List<WebApplication> _apps = [];

    private DemoAgents(IReadOnlyList<AgentOptions> agents, IReadOnlyList<MemberOptions> members)
    {
        Agents = agents;
        Members = members;
    }

    public IReadOnlyList<AgentOptions> Agents { get; }

    /// <summary>The members as the cluster configuration names them (with their agent URLs).</summary>
    public IReadOnlyList<MemberOptions> Members { get; }

    public IReadOnlyList<string> ClientUrls => [.. Members.Select(m => m.ClientUrl)];

    /// <summary>Starts <paramref name="size"/> agents and, under them, a new cluster; waits until each member is healthy.</summary>
    public static async Task<DemoAgents> StartAsync(
        string root, int size, string etcdPath, string caFile, IReadOnlyList<DemoCertificateFiles> serverCerts, CancellationToken cancellationToken)
    {
        var token = $"demo-{Guid.NewGuid():N}"[..20];
        var ports = FreeLoopbackPorts(size * 3);
        var names = Enumerable.Range(1, size).Select(i => $"demo-{i}").ToList();
        var initialCluster = string.Join(',', names.Select((n, i) => $"{n}=http://127.0.0.1:{ports[(3 * i) + 1]}"));
        var etcdctl = Path.Combine(Path.GetDirectoryName(etcdPath) ?? "", "etcdctl");
        var agents = new List<AgentOptions>();
        var members = new List<MemberOptions>();
        for (var i = 0; i < size; i++)
        {
            var member = new MemberOptions
            {
                Name = names[i],
                ClientUrl = $"http://127.0.0.1:{ports[3 * i]}",
                PeerUrl = $"http://127.0.0.1:{ports[(3 * i) + 1]}",
                AgentUrl = $"https://127.0.0.1:{ports[(3 * i) + 2]}",
            };
            members.Add(member);
            agents.Add(new AgentOptions
            {
                MemberName = member.Name,
                DataDir = Path.Combine(root, member.Name + ".etcd"),
                EtcdPath = etcdPath,
                EtcdctlPath = File.Exists(etcdctl) ? etcdctl : "etcdctl",
                ListenUrl = member.AgentUrl,
                ControlMode = MemberControlMode.Supervised,
                CommandTimeoutSeconds = 120,
                Supervised = new SupervisedOptions
                {
                    ClientUrl = member.ClientUrl,
                    PeerUrl = member.PeerUrl,
                    InitialCluster = initialCluster,
                    InitialClusterToken = token,
                    StartOnLaunch = true,
                    StopGraceSeconds = 10,
                },
                Tls = new Agent.Configuration.AgentTlsOptions { CertFile = serverCerts[i].CertFile, KeyFile = serverCerts[i].KeyFile, ClientCaFile = caFile },
            });
        }

        Directory.CreateDirectory(root);
        var set = new DemoAgents(agents, members);
        try
        {
            foreach (var options in agents)
            {
                // The agents' own logs would interleave with the demo's steps; the restore result reports what they did.
                set._apps.Add(AgentHost.Build(options, logging: _ => { }));
            }

            // Together: the first member of a new cluster cannot become healthy before a quorum exists.
            await Task.WhenAll(set._apps.Select(app => AgentHost.StartAsync(app, cancellationToken))).ConfigureAwait(false);
            await set.WaitHealthyAsync(cancellationToken).ConfigureAwait(false);
            return set;
        }
        catch
        {
            await set.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until every supervised member answers its health check.</summary>
    public Task WaitHealthyAsync(CancellationToken cancellationToken = default) =>
        Task.WhenAll(_apps.Select(app => Supervised(app).Process.WaitHealthyAsync(TimeSpan.FromSeconds(60), cancellationToken: cancellationToken)));

    /// <summary>The disaster: stops every member through its agent and deletes its data directory.</summary>
    public async Task DestroyDataAsync(CancellationToken cancellationToken = default)
    {
        // One after another: a leader stopped together with its followers waits in vain to hand over leadership.
        foreach (var app in _apps)
        {
            await Supervised(app).StopAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var agent in Agents)
        {
            if (Directory.Exists(agent.DataDir))
            {
                Directory.Delete(agent.DataDir, recursive: true);
            }
        }
    }

    /// <summary>How many supervised members run now.</summary>
    public async Task<int> RunningAsync(CancellationToken cancellationToken = default)
    {
        var running = 0;
        foreach (var app in _apps)
        {
            running += await Supervised(app).IsRunningAsync(cancellationToken).ConfigureAwait(false) ? 1 : 0;
        }

        return running;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            try
            {
                // Stopping the host stops its supervised member (see AgentHost).
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }

        _apps.Clear();
    }

    private static SupervisedMemberControl Supervised(WebApplication app) =>
        (SupervisedMemberControl)app.Services.GetRequiredService<IMemberControl>();

    private static int[] FreeLoopbackPorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
