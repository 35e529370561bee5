using System.Diagnostics;

namespace EtcdServerless.Cli.Demo;

/// <summary>Finds etcd for the demo; as root on Debian/Ubuntu, installs it with apt-get when missing.</summary>
internal static class EtcdInstaller
{
    public const string InstallHint =
        "install etcd 3.4+ first: 'sudo apt-get install etcd-server etcd-client' on Debian/Ubuntu, or the release tarball from https://github.com/etcd-io/etcd/releases (put etcd and etcdctl on PATH)";

    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Returns the etcd path, installing it when that is possible and needed.</summary>
    /// <exception cref="InvalidOperationException">etcd is missing and cannot be installed here (the message says how).</exception>
    public static async Task<string> EnsureAsync(Func<string, Task> note, CancellationToken cancellationToken)
    {
        if (Find("etcd") is { } found)
        {
            return found;
        }

        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess || !File.Exists("/etc/debian_version") || Find("apt-get") is null)
        {
            throw new InvalidOperationException($"etcd was not found on PATH; {InstallHint}");
        }

        await note("etcd not found: installing etcd-server and etcd-client with apt-get").ConfigureAwait(false);
        await RunAsync("apt-get", ["update", "-qq"], cancellationToken).ConfigureAwait(false);
        await RunAsync("apt-get", ["install", "-y", "-qq", "etcd-server", "etcd-client"], cancellationToken).ConfigureAwait(false);

        // Debian's package may start a system etcd on 2379; the demo uses its own ports, but leave the machine as it was.
        try
        {
            await RunAsync("systemctl", ["stop", "etcd"], cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }

        return Find("etcd") ?? throw new InvalidOperationException($"apt-get installed etcd-server but etcd is still not on PATH; {InstallHint}");
    }

    private static async Task RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with exit code {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
        }
    }
}
