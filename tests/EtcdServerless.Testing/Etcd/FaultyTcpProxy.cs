using System.Net;
using System.Net.Sockets;

namespace EtcdServerless.Testing.Etcd;

/// <summary>
/// A loopback TCP proxy in front of a real server that breaks the server-to-client direction of every
/// connection on purpose: it closes the connection after <see cref="CutAfterBytes"/> bytes, or flips one bit at
/// <see cref="FlipByteAt"/>. Used to break snapshot streams mid-way, reproducibly.
/// </summary>
public sealed class FaultyTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly Task _acceptLoop;

    private FaultyTcpProxy(IPEndPoint target, long? cutAfterBytes, long? flipByteAt, long? stallAfterBytes = null)
    {
        _target = target;
        CutAfterBytes = cutAfterBytes;
        FlipByteAt = flipByteAt;
        StallAfterBytes = stallAfterBytes;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>Port the proxy listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Close each connection after this many server-to-client bytes.</summary>
    public long? CutAfterBytes { get; }

    /// <summary>Invert the byte at this server-to-client offset of each connection.</summary>
    public long? FlipByteAt { get; }

    /// <summary>Stop forwarding (but keep the connection open) after this many server-to-client bytes.</summary>
    public long? StallAfterBytes { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Connections { get; private set; }

    /// <summary>The proxy's URL with the scheme of <paramref name="targetUrl"/>.</summary>
    public Uri UrlFor(string targetUrl) => new($"{new Uri(targetUrl).Scheme}://127.0.0.1:{Port}");

    /// <summary>Proxy to <paramref name="targetUrl"/> that cuts every connection after <paramref name="bytes"/>.</summary>
    public static FaultyTcpProxy CutAfter(string targetUrl, long bytes) => new(Resolve(targetUrl), bytes, null);

    /// <summary>Proxy to <paramref name="targetUrl"/> that corrupts the byte at <paramref name="offset"/>.</summary>
    public static FaultyTcpProxy Corrupt(string targetUrl, long offset) => new(Resolve(targetUrl), null, offset);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        Task[] pending;
        lock (_tasks)
        {
            pending = [.. _tasks];
        }

        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Proxy to <paramref name="targetUrl"/> that goes silent after <paramref name="bytes"/> (a hung member).</summary>
    public static FaultyTcpProxy StallAfter(string targetUrl, long bytes) => new(Resolve(targetUrl), null, null, bytes);

    private static IPEndPoint Resolve(string url)
    {
        var uri = new Uri(url);
        return new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            Connections++;
            lock (_tasks)
            {
                _tasks.Add(HandleAsync(client));
            }
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var server = new TcpClient();
        using var _ = client;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            await server.ConnectAsync(_target, cts.Token).ConfigureAwait(false);
            var up = PumpAsync(client.GetStream(), server.GetStream(), faulty: false, cts.Token);
            var down = PumpAsync(server.GetStream(), client.GetStream(), faulty: true, cts.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
            // Abort (RST) rather than a graceful close: the client sees a broken connection mid-stream.
            client.Client.LingerState = new LingerOption(true, 0);
            client.Close();
            server.Close();
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool faulty, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        long total = 0;
        while (true)
        {
            var read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            if (faulty && CutAfterBytes is { } cut && total + read >= cut)
            {
                var allowed = (int)(cut - total);
                await to.WriteAsync(buffer.AsMemory(0, allowed), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            if (faulty && StallAfterBytes is { } stall && total + read >= stall)
            {
                await to.WriteAsync(buffer.AsMemory(0, (int)(stall - total)), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }

            if (faulty && FlipByteAt is { } flip && flip >= total && flip < total + read)
            {
                buffer[flip - total] ^= 0xFF;
            }

            total += read;
            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }
}
