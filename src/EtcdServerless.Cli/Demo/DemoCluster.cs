using System.Net;
using System.Net.Sockets;
using EtcdServerless.Core.Members;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Cli.Demo;

/// <summary>A throwaway etcd cluster on loopback free ports, supervised with <see cref="EtcdProcess"/>.</summary>
internal sealed class DemoCluster : IAsyncDisposable
{
    private readonly List<EtcdProcess> _members;

    private DemoCluster(string root, List<EtcdProcess> members, string token)
    {
        Root = root;
        _members = members;
        Token = token;
    }

    public string Root { get; }

    public string Token { get; }

    public IReadOnlyList<EtcdProcess> Members => _members;

    public IReadOnlyList<string> ClientUrls => [.. _members.Select(m => m.Config.ClientUrl)];

    public string InitialCluster => string.Join(',', _members.Select(m => $"{m.Config.Name}={m.Config.PeerUrl}"));

    /// <summary>Starts <paramref name="size"/> members under <paramref name="root"/> and waits until each is healthy.</summary>
    public static async Task<DemoCluster> StartAsync(string root, int size, string etcdPath, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var token = $"demo-{Guid.NewGuid():N}"[..20];
        var ports = FreeLoopbackPorts(size * 2);
        var configs = Enumerable.Range(0, size).Select(i => new EtcdMemberConfig
        {
            Name = $"demo-{i + 1}",
            DataDir = Path.Combine(root, $"demo-{i + 1}.etcd"),
            ClientUrl = $"http://127.0.0.1:{ports[2 * i]}",
            PeerUrl = $"http://127.0.0.1:{ports[(2 * i) + 1]}",
            InitialClusterToken = token,
        }).ToList();
        var initialCluster = string.Join(',', configs.Select(c => $"{c.Name}={c.PeerUrl}"));
        var members = configs.Select(c => new EtcdProcess(c with { InitialCluster = initialCluster }, etcdPath, loggerFactory.CreateLogger("EtcdServerless.Demo." + c.Name))).ToList();
        var cluster = new DemoCluster(root, members, token);
        try
        {
            // Start all together: the first member cannot become healthy before a quorum exists.
            await Task.WhenAll(members.Select(m => m.StartAsync(cancellationToken))).ConfigureAwait(false);
            await Task.WhenAll(members.Select(m => m.WaitHealthyAsync(TimeSpan.FromSeconds(60), cancellationToken: cancellationToken))).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            await member.DisposeAsync().ConfigureAwait(false);
        }
    }

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
