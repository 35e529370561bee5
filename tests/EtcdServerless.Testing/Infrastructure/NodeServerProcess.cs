using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace EtcdServerless.Testing.Infrastructure;

/// <summary>
/// A real server installed from npm (Azurite, s3rver) running as its own process on a free loopback port with
/// a throw-away workspace. The emulator classes wrap one of these; it owns the process lifecycle: start, wait
/// until HTTP answers, keep what it prints for failure messages, stop by PID (SIGTERM, then SIGKILL after a
/// grace period because some emulators ignore SIGTERM) and delete the workspace.
/// </summary>
/// <remarks>
/// npm installs the command as a symlink to a node script; the script is run with node directly so the PID
/// we hold is the server itself and killing it leaves no orphan behind.
/// </remarks>
public sealed class NodeServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly TempDirectory _workspace;
    private readonly string _name;
    private readonly StringBuilder _output = new();
    private int _disposed;

    private NodeServerProcess(string name, Process process, TempDirectory workspace, int port)
    {
        _name = name;
        _process = process;
        _workspace = workspace;
        Port = port;
    }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>The server's working directory (its data lives there).</summary>
    public string Workspace => _workspace.Path;

    /// <summary>The server's process id.</summary>
    public int ProcessId => _process.Id;

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

    /// <summary>
    /// Starts <paramref name="command"/> with the arguments <paramref name="arguments"/> builds from the port and
    /// workspace, and waits until <paramref name="readyUri"/> gives any HTTP answer. Fails with
    /// <paramref name="installHint"/> when the command is missing: a test never skips for a missing dependency.
    /// </summary>
    public static async Task<NodeServerProcess> StartAsync(
        string command,
        string installHint,
        Func<int, string, IEnumerable<string>> arguments,
        Func<int, Uri> readyUri,
        CancellationToken cancellationToken = default)
    {
        var launcher = RequiredTool.Find(command, installHint);
        var target = File.ResolveLinkTarget(launcher, returnFinalTarget: true)?.FullName ?? launcher;
        var port = FreePorts.Next();
        var workspace = new TempDirectory(command);
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

        foreach (var argument in arguments(port, workspace.Path))
        {
            psi.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        if (!process.Start())
        {
            workspace.Dispose();
            throw new InvalidOperationException($"Could not start {command} ({psi.FileName}).");
        }

        var server = new NodeServerProcess(command, process, workspace, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync(readyUri(port), cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the process (SIGTERM, then SIGKILL after a grace period) and deletes its workspace.</summary>
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
                SendTerminate(_process.Id);
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
            // The process was never started or is already gone.
        }
        finally
        {
            _process.Dispose();
            _workspace.Dispose();
        }
    }

    private static void SendTerminate(int pid)
    {
        // .NET has no portable SIGTERM; kill(1) is everywhere the tests run. Failing to send it only means we
        // go straight to SIGKILL after the grace period.
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)])
            {
                UseShellExecute = false,
                RedirectStandardError = true,
            });
            kill?.WaitForExit(2000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
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

    private async Task WaitUntilReadyAsync(Uri readyUri, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with code {_process.ExitCode} before it answered:\n{Output}");
            }

            try
            {
                // Any HTTP answer (even 403 for an unsigned request) means the server is up.
                using var response = await probe.GetAsync(readyUri, cancellationToken).ConfigureAwait(false);
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
                throw new TimeoutException($"{_name} did not answer on port {Port} within {s_startTimeout.TotalSeconds}s:\n{Output}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
