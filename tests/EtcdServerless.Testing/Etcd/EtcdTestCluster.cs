using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Testing.Etcd;

/// <summary>
/// A real etcd cluster (1..n members) on 127.0.0.1 with free ports and temp data dirs, optionally with TLS,
/// mutual TLS and auth. Processes are killed by PID on dispose and when the test process exits.
/// </summary>
public sealed partial class EtcdTestCluster : IAsyncDisposable
{
    private const string EtcdInstallHint = "apt-get install etcd-server (Debian/Ubuntu) or put etcd 3.4+ on PATH";
    private const string EtcdCtlInstallHint = "apt-get install etcd-client (Debian/Ubuntu) or put etcdctl 3.4+ on PATH";

    private static readonly ConcurrentDictionary<int, Process> s_live = new();
    private static int s_hooked;

    private readonly TempDirectory _root;
    private readonly string _etcdPath;
    private readonly string _etcdCtlPath;
    private readonly string _token;
    private readonly List<EtcdTestMember> _members = [];
    private bool _authEnabled;

    private EtcdTestCluster(EtcdTestClusterOptions options)
    {
        Options = options;
        _etcdPath = RequiredTool.Find("etcd", EtcdInstallHint);
        _etcdCtlPath = RequiredTool.Find("etcdctl", EtcdCtlInstallHint);
        _root = new TempDirectory("etcdsl-etcd");
        _token = $"etcdsl-{Guid.NewGuid():N}"[..20];
        if (options.Security != EtcdTestSecurity.None)
        {
            Certificates = TestCertificates.CreateIn(_root.Combine("certs"));
        }

        var scheme = options.Security == EtcdTestSecurity.None ? "http" : "https";
        for (var i = 0; i < options.Members; i++)
        {
            var name = $"m{i}";
            _members.Add(new EtcdTestMember(
                i,
                name,
                $"{scheme}://127.0.0.1:{FreePorts.Next()}",
                $"http://127.0.0.1:{FreePorts.Next()}",
                _root.Combine(name + ".etcd"),
                _root.Combine(name + ".log")));
        }
    }

    /// <summary>The options the cluster was started with.</summary>
    public EtcdTestClusterOptions Options { get; }

    /// <summary>Members in creation order.</summary>
    public IReadOnlyList<EtcdTestMember> Members => _members;

    /// <summary>Every member's client URL.</summary>
    public IReadOnlyList<string> ClientUrls => [.. _members.Select(m => m.ClientUrl)];

    /// <summary>The <c>--initial-cluster-token</c> used by every member.</summary>
    public string ClusterToken => _token;

    /// <summary>The <c>--initial-cluster</c> value (name=peerUrl,...).</summary>
    public string InitialCluster => string.Join(',', _members.Select(m => $"{m.Name}={m.PeerUrl}"));

    /// <summary>The PKI when <see cref="EtcdTestClusterOptions.Security"/> is not None.</summary>
    public TestCertificates? Certificates { get; }

    /// <summary>CA PEM path, or null without TLS.</summary>
    public string? CaCertPath => Certificates?.CaCertPath;

    /// <summary>Client certificate PEM path (CN=root), or null without TLS.</summary>
    public string? ClientCertPath => Certificates?.Client.CertPath;

    /// <summary>Client key PEM path, or null without TLS.</summary>
    public string? ClientKeyPath => Certificates?.Client.KeyPath;

    /// <summary>Root password when auth is enabled, else null.</summary>
    public string? RootPassword => Options.EnableAuth ? Options.RootPassword : null;

    /// <summary>A scratch folder under the cluster's root, deleted with it.</summary>
    public string WorkDirectory => _root.Path;

    /// <summary>Path of the etcdctl binary.</summary>
    public string EtcdCtlPath => _etcdCtlPath;

    /// <summary>Starts the members and waits until every one reports the same leader.</summary>
    public static async Task<EtcdTestCluster> StartAsync(EtcdTestClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Members, 1);
        HookProcessExit();
        var cluster = new EtcdTestCluster(options);
        try
        {
            foreach (var member in cluster._members)
            {
                cluster.Launch(member, initial: true);
            }

            await cluster.WaitHealthyAsync(cluster._members, options.StartTimeout, cancellationToken).ConfigureAwait(false);
            if (options.EnableAuth)
            {
                await cluster.EtcdCtlAsync("user", "add", "root", "--new-user-password=" + options.RootPassword).ConfigureAwait(false);
                await cluster.EtcdCtlAsync("auth", "enable").ConfigureAwait(false);
                cluster._authEnabled = true;
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops member <paramref name="index"/> gracefully (SIGTERM, SIGKILL after 10 s).</summary>
    public async Task StopMemberAsync(int index, CancellationToken cancellationToken = default)
    {
        var member = _members[index];
        var process = member.Process;
        if (process is null || !member.IsRunning)
        {
            return;
        }

        await ToolProcess.RunAsync("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)], cancellationToken: cancellationToken).ConfigureAwait(false);
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }

        Forget(member);
    }

    /// <summary>Kills member <paramref name="index"/> (SIGKILL) and waits for it to exit.</summary>
    public async Task KillMemberAsync(int index, CancellationToken cancellationToken = default)
    {
        var member = _members[index];
        var process = member.Process;
        if (process is null)
        {
            return;
        }

        Kill(process);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        Forget(member);
    }

    /// <summary>Starts a stopped member again on its existing data dir and waits until it sees a leader.</summary>
    public async Task StartMemberAsync(int index, CancellationToken cancellationToken = default)
    {
        var member = _members[index];
        if (member.IsRunning)
        {
            return;
        }

        Launch(member, initial: false);
        await WaitHealthyAsync([member], Options.StartTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The flags etcdctl needs for this cluster (endpoints, TLS material, credentials), for tests that run
    /// etcdctl (or our CLI) themselves.
    /// </summary>
    public IReadOnlyList<string> EtcdCtlFlags(IEnumerable<string>? endpoints = null)
    {
        var flags = new List<string> { "--endpoints=" + string.Join(',', endpoints ?? ClientUrls), "--dial-timeout=5s", "--command-timeout=30s" };
        if (Certificates is not null)
        {
            flags.Add("--cacert=" + Certificates.CaCertPath);
        }

        if (Options.Security == EtcdTestSecurity.MutualTls)
        {
            flags.Add("--cert=" + Certificates!.Client.CertPath);
            flags.Add("--key=" + Certificates.Client.KeyPath);
        }

        if (_authEnabled)
        {
            flags.Add($"--user=root:{Options.RootPassword}");
        }

        return flags;
    }

    /// <summary>Runs <c>etcdctl</c> against all members; returns stdout or throws with stderr.</summary>
    public Task<string> EtcdCtlAsync(params string[] args) => EtcdCtlCoreAsync(null, null, args, CancellationToken.None);

    /// <summary>Runs <c>etcdctl</c> against member <paramref name="index"/> only (e.g. <c>snapshot save</c>).</summary>
    public Task<string> EtcdCtlOnMemberAsync(int index, params string[] args) =>
        EtcdCtlCoreAsync([_members[index].ClientUrl], null, args, CancellationToken.None);

    /// <summary>Runs <c>etcdctl</c> against all members with <paramref name="standardInput"/> on stdin.</summary>
    public Task<string> EtcdCtlStdinAsync(string standardInput, params string[] args) =>
        EtcdCtlCoreAsync(null, standardInput, args, CancellationToken.None);

    /// <summary>Runs <c>etcdctl</c> with only <paramref name="args"/> (no cluster flags), e.g. <c>snapshot status</c>/<c>restore</c>.</summary>
    public async Task<string> EtcdCtlOfflineAsync(params string[] args)
    {
        var result = await ToolProcess.RunAsync(_etcdCtlPath, args, EtcdCtlEnvironment).ConfigureAwait(false);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"etcdctl {string.Join(' ', args)} failed ({result.ExitCode}): {result.StandardError.Trim()}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            var process = member.Process;
            if (process is not null)
            {
                Kill(process);
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                Forget(member);
            }
        }

        Certificates?.Dispose();
        _root.Dispose();
    }

    private static Dictionary<string, string> EtcdCtlEnvironment => new() { ["ETCDCTL_API"] = "3" };

    private async Task<string> EtcdCtlCoreAsync(IEnumerable<string>? endpoints, string? stdin, string[] args, CancellationToken cancellationToken)
    {
        var all = new List<string>(EtcdCtlFlags(endpoints));
        all.AddRange(args);
        var result = await ToolProcess.RunAsync(_etcdCtlPath, all, EtcdCtlEnvironment, stdin, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"etcdctl {string.Join(' ', args)} failed ({result.ExitCode}): {result.StandardError.Trim()}");
    }

    private void Launch(EtcdTestMember member, bool initial)
    {
        var args = new List<string>
        {
            "--name=" + member.Name,
            "--data-dir=" + member.DataDir,
            "--listen-client-urls=" + member.ClientUrl,
            "--advertise-client-urls=" + member.ClientUrl,
            "--listen-peer-urls=" + member.PeerUrl,
            "--initial-advertise-peer-urls=" + member.PeerUrl,
            "--initial-cluster=" + InitialCluster,
            "--initial-cluster-token=" + _token,
            "--initial-cluster-state=" + (initial ? "new" : "existing"),
            "--logger=zap",
            "--log-outputs=stderr",
        };
        if (Certificates is not null)
        {
            args.Add("--cert-file=" + Certificates.Server.CertPath);
            args.Add("--key-file=" + Certificates.Server.KeyPath);
        }

        if (Options.Security == EtcdTestSecurity.MutualTls)
        {
            args.Add("--client-cert-auth");
            args.Add("--trusted-ca-file=" + Certificates!.CaCertPath);
        }

        args.AddRange(Options.ExtraArguments);

        // exec keeps the PID of the shell, so the PID we hold is etcd's own; the shell only sets up the log file.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$ETCDSL_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(_etcdPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ETCDSL_LOG"] = member.LogPath;
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ETCD_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start etcd.");
        member.Process = process;
        s_live[process.Id] = process;
    }

    private async Task WaitHealthyAsync(IReadOnlyList<EtcdTestMember> members, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var lastError = "";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var member in members.Where(m => !m.IsRunning))
            {
                throw new InvalidOperationException($"etcd member {member.Name} exited during startup. Log tail:\n{member.LogTail()}");
            }

            var flags = new List<string>(EtcdCtlFlags(members.Select(m => m.ClientUrl))) { "endpoint", "status", "-w", "json" };
            var result = await ToolProcess.RunAsync(_etcdCtlPath, flags, EtcdCtlEnvironment, timeout: TimeSpan.FromSeconds(15), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.ExitCode == 0 && AllHaveLeader(result.StandardOutput, members.Count))
            {
                return;
            }

            lastError = result.StandardError.Trim();
            if (deadline.Elapsed > timeout)
            {
                var tails = string.Join("\n", members.Select(m => $"--- {m.Name} ({m.LogPath}) ---\n{m.LogTail()}"));
                throw new TimeoutException($"etcd cluster did not become healthy within {timeout}: {lastError}\n{tails}");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool AllHaveLeader(string json, int expected)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var count = 0;
            foreach (var entry in doc.RootElement.EnumerateArray())
            {
                if (!entry.GetProperty("Status").TryGetProperty("leader", out var leader) || leader.GetUInt64() == 0)
                {
                    return false;
                }

                count++;
            }

            return count == expected;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (KeyNotFoundException)
        {
            return false;
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    private static void Forget(EtcdTestMember member)
    {
        var process = member.Process;
        if (process is null)
        {
            return;
        }

        s_live.TryRemove(new KeyValuePair<int, Process>(process.Id, process));
        member.Process = null;
        process.Dispose();
    }

    private static void HookProcessExit()
    {
        if (Interlocked.Exchange(ref s_hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var process in s_live.Values)
                {
                    Kill(process);
                }
            };
        }
    }
}
