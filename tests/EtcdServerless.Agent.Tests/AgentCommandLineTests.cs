using System.Diagnostics;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Agent.Tests;

/// <summary>The real <c>etcd-backup-agent</c> process: help, --config, and one clear line (never a crash) for bad configuration.</summary>
public sealed class AgentCommandLineTests : IDisposable
{
    private readonly TempDirectory _temp = new("etcdsl-agent-cli");

    [Fact]
    public async Task Help_PrintsUsageAndExitsZero()
    {
        var (exit, stdout, stderr) = await RunAsync("--help");

        Assert.True(exit == 0, stderr);
        Assert.Contains("--config", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("required", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoConfig_ExitsOneNamingEveryMissingKey()
    {
        var (exit, _, stderr) = await RunAsync();

        Assert.Equal(1, exit);
        Assert.Contains("Agent:MemberName is required", stderr, StringComparison.Ordinal);
        Assert.Contains("Agent:DataDir is required", stderr, StringComparison.Ordinal);
        Assert.Contains("Agent:Tls:CertFile is required", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("missing", "does not exist")]
    [InlineData("{ \"Agent\": ", "is not valid JSON")]
    [InlineData("{ \"Agent\": { \"ControlMode\": \"Telepathy\" } }", "Agent:ControlMode")]
    public async Task BadConfigFile_ExitsOneWithOneLine(string content, string expected)
    {
        var path = _temp.Combine("agent.json");
        if (content != "missing")
        {
            await File.WriteAllTextAsync(path, content);
        }

        var (exit, _, stderr) = await RunAsync("--config", path);

        Assert.Equal(1, exit);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task UnknownOption_IsAUsageError()
    {
        var (exit, _, stderr) = await RunAsync("--confg", "x");

        Assert.Equal(2, exit);
        Assert.Contains("--help", stderr, StringComparison.Ordinal);
    }

    internal static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "etcd-backup-agent");
        Assert.True(File.Exists(exe), $"{exe} is missing");
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Only this test's settings: no Agent__* from the machine.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Agent__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (process.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => _temp.Dispose();
}
