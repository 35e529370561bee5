using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Testing.Azurite;

/// <summary>
/// A real Azurite blob emulator process on a free loopback port with a throw-away workspace. Start one per
/// test class (xunit class fixture) and dispose it: the process is stopped by PID (SIGTERM, then SIGKILL
/// after a grace period, because Azurite may ignore SIGTERM) and its workspace deleted.
/// </summary>
/// <remarks>
/// Azurite runs with <c>--skipApiVersionCheck</c> (clients may send a newer <c>x-ms-version</c> than the
/// emulator knows) and <c>--loose</c> (it ignores headers it does not implement instead of failing).
/// It is started as <c>node main.js</c> directly, not through a wrapper script, so the PID we hold is the
/// node process itself and killing it leaves no orphan behind.
/// </remarks>
public sealed class AzuriteProcess : IAsyncDisposable
{
    /// <summary>The emulator's well-known account name (Azurite README).</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's well-known account key (Azurite README). Not a secret.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>The <c>x-ms-version</c> the harness itself sends.</summary>
    public const string ApiVersion = "2025-05-05";

    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_stopGrace = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly TempDirectory _workspace;
    private readonly StringBuilder _output = new();
    private readonly HttpClient _http = new();
    private int _disposed;

    private AzuriteProcess(Process process, TempDirectory workspace, int port)
    {
        _process = process;
        _workspace = workspace;
        Port = port;
        BlobEndpoint = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/{AccountName}");
    }

    /// <summary>The loopback port the blob service listens on.</summary>
    public int Port { get; }

    /// <summary>The path-style account endpoint, <c>http://127.0.0.1:PORT/devstoreaccount1</c> (no trailing slash).</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>The emulator's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>What the emulator printed so far (for failure messages).</summary>
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

    /// <summary>Starts Azurite and waits until it answers HTTP. Fails with an install hint when it is missing.</summary>
    public static async Task<AzuriteProcess> StartAsync(CancellationToken cancellationToken = default)
    {
        var launcher = RequiredTool.Find("azurite-blob", "npm install -g azurite");
        var script = ResolveScript(launcher);
        var port = FreePorts.Next();
        var workspace = new TempDirectory("azurite");

        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workspace.Path,
        };
        if (script is not null)
        {
            psi.FileName = RequiredTool.Find("node", "install Node.js 20+ (apt-get install nodejs)");
            psi.ArgumentList.Add(script);
        }
        else
        {
            psi.FileName = launcher;
        }

        foreach (var arg in new[]
        {
            "--blobHost", "127.0.0.1",
            "--blobPort", port.ToString(CultureInfo.InvariantCulture),
            "--location", workspace.Path,
            "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
        })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        if (!process.Start())
        {
            workspace.Dispose();
            throw new InvalidOperationException($"Could not start Azurite ({psi.FileName}).");
        }

        var azurite = new AzuriteProcess(process, workspace, port);
        process.OutputDataReceived += (_, e) => azurite.Append(e.Data);
        process.ErrorDataReceived += (_, e) => azurite.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await azurite.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
            return azurite;
        }
        catch
        {
            await azurite.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a container (private access). Succeeds when it already exists.</summary>
    public async Task CreateContainerAsync(string container, CancellationToken cancellationToken = default)
    {
        var sas = CreateAccountSas("rwdlacupitf", DateTimeOffset.UtcNow.AddHours(1));
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{BlobEndpoint}/{container}?restype=container&{sas}");
        request.Headers.Add("x-ms-version", ApiVersion);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Created or HttpStatusCode.Conflict))
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"Azurite refused to create container '{container}': {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>
    /// Builds an account SAS (blob service; service, container and object resource types) signed with the
    /// well-known key, as a query string without the leading '?'. Follows the account SAS string-to-sign for
    /// signed versions 2020-12-06 and later.
    /// </summary>
    public static string CreateAccountSas(string permissions, DateTimeOffset expiresOn, string signedVersion = "2025-05-05")
    {
        var expiry = expiresOn.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        const string services = "b";
        const string resourceTypes = "sco";
        const string protocol = "https,http";
        var stringToSign = string.Join('\n', AccountName, permissions, services, resourceTypes, "", expiry, "", protocol, signedVersion, "", "");
        using var hmac = new HMACSHA256(Convert.FromBase64String(AccountKey));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        return string.Create(CultureInfo.InvariantCulture,
            $"sv={signedVersion}&ss={services}&srt={resourceTypes}&sp={permissions}&se={Uri.EscapeDataString(expiry)}&spr={Uri.EscapeDataString(protocol)}&sig={Uri.EscapeDataString(signature)}");
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
            _http.Dispose();
            _workspace.Dispose();
        }
    }

    private static string? ResolveScript(string launcher)
    {
        // npm installs azurite-blob as a symlink to a node script; run that script with node directly so the
        // PID we hold is the server itself.
        var target = File.ResolveLinkTarget(launcher, returnFinalTarget: true)?.FullName ?? launcher;
        return target.EndsWith(".js", StringComparison.OrdinalIgnoreCase) ? target : null;
    }

    private static void SendTerminate(int pid)
    {
        // .NET has no portable SIGTERM; /bin/kill is everywhere the tests run. Failing to send it only means
        // we go straight to SIGKILL after the grace period.
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

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode} before it answered:\n{Output}");
            }

            try
            {
                // Any HTTP answer (even 403 for an unsigned request) means the server is up.
                using var response = await probe.GetAsync(new Uri($"{BlobEndpoint}?comp=list"), cancellationToken).ConfigureAwait(false);
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
                throw new TimeoutException($"Azurite did not answer on port {Port} within {s_startTimeout.TotalSeconds}s:\n{Output}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }
}
