using System.Net;
using System.Net.Sockets;

namespace EtcdServerless.Core.Members;

/// <summary>The etcd programs a throwaway member needs.</summary>
internal sealed record EtcdToolPaths
{
    /// <summary>The etcd server binary (name on PATH or path).</summary>
    public string EtcdPath { get; init; } = "etcd";

    /// <summary>etcd 3.5+'s offline tool; preferred for the restore when present.</summary>
    public string EtcdutlPath { get; init; } = "etcdutl";

    /// <summary>etcdctl, the restore tool of etcd 3.4.</summary>
    public string EtcdctlPath { get; init; } = "etcdctl";
}

/// <summary>
/// The pieces of a throwaway single-member etcd on loopback, shared by restore drills and materialization: a private
/// scratch folder, etcd's own <c>snapshot restore</c> (etcdutl, else etcdctl), two free loopback ports and the
/// member's configuration. The callers own the member's life (<see cref="EtcdProcess"/>) and remove the folder.
/// </summary>
internal static class ThrowawayEtcd
{
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates a 0700 folder named <paramref name="prefix"/> + a random suffix under <paramref name="tempRoot"/> (the system temp folder by default).</summary>
    public static string CreateScratchFolder(string? tempRoot, string prefix)
    {
        var folder = Path.Combine(tempRoot ?? Path.GetTempPath(), $"{prefix}{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, FolderMode);
        }

        return folder;
    }

    /// <summary>Removes the folder and everything in it; a folder already gone is fine.</summary>
    public static void DeleteScratchFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Two distinct free loopback ports (client, peer).</summary>
    public static (int Client, int Peer) FreePorts()
    {
        // Both listeners are held at once so the two ports differ; etcd binds them right after (a lost race is a failed start).
        using var a = new TcpListener(IPAddress.Loopback, 0);
        using var b = new TcpListener(IPAddress.Loopback, 0);
        a.Start();
        b.Start();
        var ports = (((IPEndPoint)a.LocalEndpoint).Port, ((IPEndPoint)b.LocalEndpoint).Port);
        a.Stop();
        b.Stop();
        return ports;
    }

    /// <summary>
    /// Runs <c>snapshot restore</c> of <paramref name="snapshotPath"/> into <paramref name="dataDir"/> for a one-member
    /// cluster named <paramref name="memberName"/> at <paramref name="peerUrl"/>. Returns the error (one line), or the
    /// tool used.
    /// </summary>
    public static async Task<(string? Error, string? Detail)> RestoreAsync(
        EtcdToolPaths tools, string snapshotPath, string dataDir, string memberName, string peerUrl, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tools);

        // etcdutl (3.5+) when present, else etcdctl (3.4), as the agent does.
        var tool = ExternalCommand.Locate(tools.EtcdutlPath) ?? ExternalCommand.Locate(tools.EtcdctlPath);
        if (tool is null)
        {
            return ($"neither '{tools.EtcdutlPath}' nor '{tools.EtcdctlPath}' was found (install etcd's tools or set their paths)", null);
        }

        string[] arguments =
        [
            "snapshot", "restore", snapshotPath,
            "--data-dir", dataDir,
            "--name", memberName,
            "--initial-cluster", $"{memberName}={peerUrl}",
            "--initial-advertise-peer-urls", peerUrl,
            "--initial-cluster-token", $"etcd-backup-{memberName}-{Guid.NewGuid():N}",
        ];
        try
        {
            var result = await ExternalCommand.RunAsync(tool, arguments, timeout,
                new Dictionary<string, string> { ["ETCDCTL_API"] = "3" }, cancellationToken).ConfigureAwait(false);
            return result.Succeeded
                ? (null, $"{Path.GetFileName(tool)} snapshot restore")
                : ($"{Path.GetFileName(tool)} snapshot restore exited with {result.ExitCode}: {result.LastLine()}", null);
        }
        catch (Exception ex) when (ex is TimeoutException or FileNotFoundException)
        {
            return (ex.Message, null);
        }
    }

    /// <summary>What <c>etcd --version</c> reports ("" when etcd is missing or does not answer).</summary>
    public static async Task<string> EtcdVersionAsync(string etcdPath, CancellationToken cancellationToken = default)
    {
        var etcd = ExternalCommand.Locate(etcdPath);
        if (etcd is null)
        {
            return "";
        }

        try
        {
            var result = await ExternalCommand.RunAsync(etcd, ["--version"], TimeSpan.FromSeconds(30), cancellationToken: cancellationToken).ConfigureAwait(false);
            var line = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => l.StartsWith("etcd Version:", StringComparison.Ordinal));
            return line is null ? "" : line["etcd Version:".Length..].Trim();
        }
        catch (Exception ex) when (ex is TimeoutException or FileNotFoundException)
        {
            return "";
        }
    }

    /// <summary>
    /// The member's configuration: loopback client and peer URLs, its log in the scratch folder, a backend quota the
    /// snapshot fits in, no listeners of its own beyond the two ports, plus <paramref name="extraArguments"/>.
    /// </summary>
    public static EtcdMemberConfig MemberConfig(
        string memberName, string dataDir, int clientPort, string peerUrl, string logFile, long snapshotSize, IEnumerable<string>? extraArguments = null) =>
        new()
        {
            Name = memberName,
            DataDir = dataDir,
            ClientUrl = $"http://127.0.0.1:{clientPort}",
            PeerUrl = peerUrl,
            LogFile = logFile,
            ExtraArguments =
            [
                "--quota-backend-bytes", QuotaFor(snapshotSize).ToString(System.Globalization.CultureInfo.InvariantCulture),
                .. extraArguments ?? [],
            ],
        };

    /// <summary>etcd raises NOSPACE when the db exceeds its quota (2 GiB by default); a bigger snapshot must still start.</summary>
    public static long QuotaFor(long snapshotSize) => Math.Max(2L << 30, snapshotSize * 2);
}
