using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Members;

/// <summary>
/// One etcd member run as a supervised child process: start with an <see cref="EtcdMemberConfig"/>, stop
/// (SIGTERM, then SIGKILL after a grace period), restart, wait for health. stdout/stderr are appended to the
/// config's log file. Used by the agent's supervised mode, the demo and the tests. Thread-safe.
/// </summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    private readonly string _etcdPath;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Process? _process;
    private StreamWriter? _log;

    /// <param name="config">How to launch the member.</param>
    /// <param name="etcdPath">The etcd binary (name on PATH or path).</param>
    /// <param name="logger">Optional logger.</param>
    public EtcdProcess(EtcdMemberConfig config, string etcdPath = "etcd", ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _etcdPath = etcdPath;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The launch configuration.</summary>
    public EtcdMemberConfig Config { get; }

    /// <summary>How long <see cref="StopAsync"/> waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>True while the child process is alive.</summary>
    public bool IsRunning
    {
        get
        {
            var process = _process;
            if (process is null)
            {
                return false;
            }

            try
            {
                return !process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>The child's process id while it runs.</summary>
    public int? ProcessId => IsRunning ? _process!.Id : null;

    /// <summary>Exit code of the last child that ended, if any.</summary>
    public int? LastExitCode { get; private set; }

    /// <summary>Starts etcd unless it already runs. Fails fast when the binary is missing or etcd exits at once.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsRunning)
            {
                return;
            }

            CleanupExited();
            var etcd = ExternalCommand.Locate(_etcdPath)
                ?? throw new FileNotFoundException($"etcd binary '{_etcdPath}' was not found (install etcd-server or set the etcd path).", _etcdPath);
            var logFile = Config.EffectiveLogFile;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
            var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { AutoFlush = true };
            var info = new ProcessStartInfo(etcd)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in Config.ToArguments())
            {
                info.ArgumentList.Add(argument);
            }

            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => WriteLog(log, e.Data);
            process.ErrorDataReceived += (_, e) => WriteLog(log, e.Data);
            WriteLog(log, $"--- {DateTimeOffset.UtcNow:O} starting {etcd} {string.Join(' ', info.ArgumentList)}");
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            _log = log;
            Log.EtcdStarted(_logger, Config.Name, process.Id, logFile);

            // etcd rejects bad flags or a foreign data dir within milliseconds; surface that here, not at health time.
            using var early = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            early.CancelAfter(TimeSpan.FromMilliseconds(300));
            try
            {
                await process.WaitForExitAsync(early.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return;
            }

            LastExitCode = process.ExitCode;
            Log.EtcdExited(_logger, Config.Name, process.ExitCode);
            throw new InvalidOperationException($"etcd member {Config.Name} exited at start with code {process.ExitCode}: {LogTail(5).ReplaceLineEndings(" | ")}");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops etcd: SIGTERM, then SIGKILL after <see cref="StopGrace"/>. No-op when it is not running.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var process = _process;
            if (process is null)
            {
                return;
            }

            if (IsRunning)
            {
                Log.EtcdStopping(_logger, Config.Name, process.Id);
                await SignalTermAsync(process.Id, cancellationToken).ConfigureAwait(false);
                using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                grace.CancelAfter(StopGrace);
                try
                {
                    await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    Log.EtcdKilled(_logger, Config.Name, process.Id, StopGrace);
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            LastExitCode = process.ExitCode;
            Log.EtcdExited(_logger, Config.Name, process.ExitCode);
            CleanupExited();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops, then starts again with the same configuration.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken).ConfigureAwait(false);
        await StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the member reports healthy on its client URL (which needs a quorum: start the other members too).
    /// Throws <see cref="TimeoutException"/> with the log tail when it does not, or when the process dies meanwhile.
    /// </summary>
    public async Task WaitHealthyAsync(TimeSpan timeout, string? caFile = null, string? certFile = null, string? keyFile = null, CancellationToken cancellationToken = default)
    {
        using var probe = new EtcdHealthProbe(caFile ?? Config.TrustedCaFile, certFile, keyFile);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!IsRunning)
            {
                throw new InvalidOperationException($"etcd member {Config.Name} is not running: {LogTail(5).ReplaceLineEndings(" | ")}");
            }

            if (await probe.IsHealthyAsync(Config.ClientUrl, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"etcd member {Config.Name} did not become healthy within {timeout}: {LogTail(5).ReplaceLineEndings(" | ")}");
    }

    /// <summary>The last lines of the member's log file.</summary>
    public string LogTail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(Config.EffectiveLogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Dispose();
        }
    }

    private static async Task SignalTermAsync(int pid, CancellationToken cancellationToken)
    {
        // .NET can only SIGKILL; etcd deserves a clean shutdown (it fsyncs and closes the WAL), so ask kill(1).
        var kill = ExternalCommand.Locate("kill") ?? "/bin/kill";
        await ExternalCommand.RunAsync(kill, ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static void WriteLog(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // The pump may deliver a last line after the process was cleaned up.
            }
        }
    }

    private void CleanupExited()
    {
        if (_process is { } process && !IsRunning)
        {
            process.WaitForExit();
            process.Dispose();
            _process = null;
            if (_log is { } log)
            {
                lock (log)
                {
                    log.Dispose();
                }

                _log = null;
            }
        }
    }
}
