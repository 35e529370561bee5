using System.Diagnostics;

namespace EtcdServerless.Cli.Tests;

/// <summary>
/// Runs the built CLI (<c>dotnet etcd-backup.dll</c>) as its own process, for tests whose input is the
/// process environment (AWS_*, ETCDCTL_*): setting those in the test host would leak into parallel tests.
/// </summary>
internal static class CliProcess
{
    // Variables a developer's shell may carry that would change what the CLI under test does.
    private static readonly string[] s_cleared =
    [
        "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "ETCDCTL_ENDPOINTS", "ETCDCTL_CACERT", "ETCDCTL_CERT", "ETCDCTL_KEY", "ETCDCTL_USER", "ETCDCTL_DIAL_TIMEOUT",
    ];

    public static async Task<(int ExitCode, string Out, string Err)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "etcd-backup.dll"));
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var name in s_cleared)
        {
            psi.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
