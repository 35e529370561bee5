using System.Net;
using System.Net.Sockets;

namespace EtcdServerless.Testing.Infrastructure;

/// <summary>Hands out loopback TCP ports that are free now and not handed out twice by this process.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> s_issued = [];
    private static readonly Lock s_gate = new();

    /// <summary>Returns a port on 127.0.0.1 that nothing listens on at the time of the call.</summary>
    public static int Next()
    {
        lock (s_gate)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (s_issued.Add(port))
                {
                    return port;
                }
            }

            throw new InvalidOperationException("Could not find a free loopback port.");
        }
    }
}
