using System.Text;
using System.Text.RegularExpressions;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Cli.Tests.Commands;

/// <summary>
/// Runs the built CLI (etcd-backup.dll) under a pseudo-terminal (<c>script -qec</c>), the way a user at a shell
/// runs it: stderr is a terminal, so the interactive renderings (progress line, spinners) are used instead of
/// the plain lines every other test sees.
/// </summary>
[Trait("Category", "Cli")]
public sealed partial class InteractiveTerminalTests
{
    [Fact]
    public async Task SnapshotSave_PseudoTerminal_SavesVerifiedFileAndPrintsTable()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "b");
        using var env = new CliTestEnvironment();
        var file = env.Combine("snap.db");

        // Act
        var run = await PseudoTerminal.RunAsync("snapshot", "save", file, "--endpoints", string.Join(',', cluster.ClientUrls));

        // Assert
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.DoesNotContain("overflow", run.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("MiB (100%)", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^FIELD\s+VALUE", run.Output);
        Assert.Matches(@"(?m)^sha256\s+[0-9a-f]{64}", run.Output);
        Assert.True(File.Exists(file));
        Assert.False(File.Exists(file + ".part"));
        await cluster.EtcdCtlOfflineAsync("snapshot", "status", file);
    }

    [Fact]
    public async Task SnapshotSave_PseudoTerminalNoMemberReachable_OneErrorLineAndNonZeroExit()
    {
        // Arrange
        using var env = new CliTestEnvironment();
        var file = env.Combine("snap.db");

        // Act
        var run = await PseudoTerminal.RunAsync("snapshot", "save", file, "--endpoints", "http://127.0.0.1:1", "--dial-timeout", "00:00:01");

        // Assert
        Assert.NotEqual(0, run.ExitCode);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task SnapshotStatus_PseudoTerminal_PrintsEtcdctlTable()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        await cluster.EtcdCtlAsync("put", "/registry/a", "b");
        using var env = new CliTestEnvironment();
        var file = env.Combine("snap.db");
        await cluster.EtcdCtlAsync("snapshot", "save", file);

        // Act
        var run = await PseudoTerminal.RunAsync("snapshot", "status", file);
        var corrupt = env.Combine("corrupt.db");
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(corrupt, bytes);
        var bad = await PseudoTerminal.RunAsync("snapshot", "status", corrupt);

        // Assert
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("HASH", run.Output, StringComparison.Ordinal);
        Assert.Contains("TOTAL KEYS", run.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("sha256", bad.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task BackupRunListVerify_PseudoTerminalLocalStore_RenderProgressAndTables()
    {
        // Arrange
        await using var cluster = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1 });
        for (var i = 0; i < 10; i++)
        {
            await cluster.EtcdCtlAsync("put", $"/registry/pods/default/p{i}", $"v{i}");
        }

        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = cluster.ClientUrls });

        // Act
        var run = await PseudoTerminal.RunAsync("backup", "run", "--config", config);
        var list = await PseudoTerminal.RunAsync("backup", "list", "--config", config);
        var backupId = BackupIdPattern().Match(list.Output).Value;
        var verify = await PseudoTerminal.RunAsync("backup", "verify", backupId, "--config", config);
        var missing = await PseudoTerminal.RunAsync("backup", "verify", "20000101T000000000Z-r000000000001", "--config", config);

        // Assert
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Matches(@"(?m)^ok backing up lab to ", run.Output);
        Assert.DoesNotContain("==> ", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^backup id:\s+" + backupId, run.Output);
        Assert.True(list.ExitCode == 0, list.Output);
        Assert.Matches(@"(?m)^CLUSTER\s", list.Output);
        Assert.NotEqual("", backupId);
        Assert.True(verify.ExitCode == 0, verify.Output);
        Assert.Contains("all checks passed", verify.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^ok verifying lab/" + backupId, verify.Output);
        Assert.Matches(@"(?m)^CHECK\s+RESULT\s+DETAIL", verify.Output);
        Assert.NotEqual(0, missing.ExitCode);
        Assert.DoesNotContain("   at ", missing.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\d{8}T\d{9}Z-r\d+")]
    private static partial Regex BackupIdPattern();
}

/// <summary>Runs the built CLI under <c>script</c> so its stdin, stdout and stderr are a terminal.</summary>
internal static partial class PseudoTerminal
{
    /// <summary>Exit code of the CLI and what the terminal showed (stdout and stderr interleaved, escapes removed).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "etcd-backup.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("The CLI is not built next to the tests.", dll);
        }

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var command = new StringBuilder();
        foreach (var part in new[] { dotnet, dll }.Concat(args))
        {
            command.Append(Quote(part)).Append(' ');
        }

        var result = await ToolProcess.RunAsync(
            "script",
            ["-qec", command.ToString(), "/dev/null"],
            new Dictionary<string, string> { ["TERM"] = "xterm-256color", ["COLUMNS"] = "120" },
            timeout: TimeSpan.FromSeconds(120));
        return (result.ExitCode, AnsiEscape().Replace(result.StandardOutput, "").Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"\x1B(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[=>@-_])")]
    private static partial Regex AnsiEscape();
}
