using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Testing.S3;

/// <summary>
/// A real s3rver (npm) process, an S3-compatible server, on a free loopback port with a throw-away data
/// directory. Start one per test class and dispose it: the process is stopped by PID (SIGTERM, then SIGKILL
/// after a grace period) and its directory deleted.
/// </summary>
/// <remarks>
/// s3rver accepts the fixed credentials <see cref="AccessKeyId"/>/<see cref="SecretAccessKey"/> (its README)
/// and checks SigV4 signatures. What it does not implement is part of what the tests show: it ignores
/// <c>If-None-Match</c> on writes (the store falls back to its commit lock), has no Object Lock, no
/// versioning and no multipart abort. It is started as <c>node s3rver.js</c> so the PID we hold is the server.
/// </remarks>
public sealed class S3rverProcess : IAsyncDisposable
{
    /// <summary>s3rver's fixed access key id (not a secret).</summary>
    public const string AccessKeyId = "S3RVER";

    /// <summary>s3rver's fixed secret key (not a secret).</summary>
    public const string SecretAccessKey = "S3RVER";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly TempDirectory _workspace;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private S3rverProcess(Process process, TempDirectory workspace, int port)
    {
        _process = process;
        _workspace = workspace;
        Port = port;
        Endpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>The service endpoint, <c>http://127.0.0.1:PORT</c> (path-style buckets).</summary>
    public Uri Endpoint { get; }

    /// <summary>The server's data directory (buckets are folders in it).</summary>
    public string DataDirectory => _workspace.Path;

    /// <summary>What the server printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts s3rver and waits until it answers HTTP. Fails with an install hint when it is missing.</summary>
    public static async Task<S3rverProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var launcher = RequiredTool.Find("s3rver", "npm install -g s3rver");
        var target = File.ResolveLinkTarget(launcher, returnFinalTarget: true)?.FullName ?? launcher;
        var port = FreePorts.Next();
        var workspace = new TempDirectory("s3rver");
        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workspace.Path,
        };
        if (target.EndsWith(".js", StringComparison.OrdinalIgnoreCase))
        {
            psi.FileName = RequiredTool.Find("node", "install Node.js 20+ (apt-get install nodejs)");
            psi.ArgumentList.Add(target);
        }
        else
        {
            psi.FileName = launcher;
        }

        foreach (var arg in new[] { "--directory", workspace.Path, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--silent" })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        if (!process.Start())
        {
            workspace.Dispose();
            throw new InvalidOperationException($"Could not start s3rver ({psi.FileName}).");
        }

        var server = new S3rverProcess(process, workspace, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a bucket (s3rver takes an unsigned request as anonymous). Succeeds when it exists.</summary>
    public async Task CreateBucketAsync(string bucket, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        using var response = await http.PutAsync(new Uri(Endpoint, "/" + bucket), null, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"s3rver refused to create bucket '{bucket}': {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>Stops the process (SIGTERM, then SIGKILL after a grace period) and deletes its data.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                try
                {
                    using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                    kill?.WaitForExit(2000);
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    // No kill(1): straight to SIGKILL after the grace period.
                }

                using var grace = new CancellationTokenSource(s_stopGrace);
                try
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().ConfigureAwait(false);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
        finally
        {
            _process.Dispose();
            _workspace.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} before it answered:\n{Output}");
            }

            try
            {
                using var response = await probe.GetAsync(Endpoint, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }

            if (deadline.Elapsed > s_startTimeout)
            {
                throw new TimeoutException($"s3rver did not answer on port {Port} within {s_startTimeout.TotalSeconds}s:\n{Output}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
