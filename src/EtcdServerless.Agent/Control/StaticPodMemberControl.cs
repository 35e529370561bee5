using System.Net.Sockets;
using EtcdServerless.Agent.Configuration;

namespace EtcdServerless.Agent.Control;

/// <summary>
/// kubeadm static pod: the kubelet runs etcd while its manifest sits in the static-pod folder. Moving the manifest
/// out stops the pod, moving it back starts it; the client port tells when the kubelet has acted.
/// </summary>
internal sealed class StaticPodMemberControl(StaticPodOptions options) : IMemberControl
{
    private string ParkedPath => Path.Combine(options.ParkDirectory, Path.GetFileName(options.ManifestPath));

    public string Mode => "staticPod";

    public async Task<bool> IsRunningAsync(CancellationToken cancellationToken = default) =>
        File.Exists(options.ManifestPath) && await PortOpenAsync(cancellationToken).ConfigureAwait(false);

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (File.Exists(options.ManifestPath))
        {
            Directory.CreateDirectory(options.ParkDirectory);
            File.Move(options.ManifestPath, ParkedPath, overwrite: true);
        }

        await WaitPortAsync(open: false, cancellationToken).ConfigureAwait(false);
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(options.ManifestPath))
        {
            if (!File.Exists(ParkedPath))
            {
                throw new FileNotFoundException($"Neither {options.ManifestPath} nor the parked {ParkedPath} exists; cannot start the static pod.");
            }

            File.Move(ParkedPath, options.ManifestPath);
        }

        await WaitPortAsync(open: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitPortAsync(bool open, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(options.WaitSeconds);
        while (await PortOpenAsync(cancellationToken).ConfigureAwait(false) != open)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The kubelet did not {(open ? "start" : "stop")} the etcd static pod within {options.WaitSeconds} s (client port {options.ClientUrl}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> PortOpenAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(options.ClientUrl);
        using var client = new TcpClient();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(uri.Host, uri.Port, cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
