using EtcdServerless.Cli.Output;

namespace EtcdServerless.Cli.Tests.Output;

public sealed class CliProgressTests
{
    [Fact]
    public async Task StepAsync_ResultSaysFailed_PrintsFailedNotOk()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var progress = new CliProgress(new CliConsole(output, error));

        var result = await progress.StepAsync("step", _ => Task.FromResult(false), ok => ok);

        Assert.False(result);
        Assert.Contains("    failed after", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("    ok", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackupRun_UnreachableCluster_ProgressSaysFailedBeforeTheError()
    {
        using var env = new CliTestEnvironment();
        await env.InitializeKeysAsync();
        var config = env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:1"] });

        var run = await Cli.RunAsync("backup", "run", "--config", config);

        Assert.Equal(1, run.ExitCode);
        var lines = run.Err.Split('\n');
        var failed = Array.FindIndex(lines, l => l.StartsWith("    failed after", StringComparison.Ordinal));
        var errorLine = Array.FindIndex(lines, l => l.StartsWith("error: backup of 'lab' failed", StringComparison.Ordinal));
        Assert.True(failed >= 0 && errorLine > failed, run.Err);
        Assert.DoesNotContain("    ok", run.Err, StringComparison.Ordinal);
    }
}
