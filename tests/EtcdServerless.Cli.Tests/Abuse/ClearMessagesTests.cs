namespace EtcdServerless.Cli.Tests.Abuse;

/// <summary>Defends: careless-operator mistakes get one line saying what is wrong and what to do, not a stack trace or a riddle.</summary>
[Trait("Category", "Abuse")]
public sealed class ClearMessagesTests : IDisposable
{
    private readonly CliTestEnvironment _env = new();

    [Fact]
    public async Task BackupList_ClusterNameWithUppercase_RejectedByValidationWithSuggestion()
    {
        var config = _env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["Prod_East"] = ["http://127.0.0.1:1"] });

        var list = await Cli.RunAsync("backup", "list", "--config", config);

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("Clusters:Prod_East", list.Err, StringComparison.Ordinal);
        Assert.Contains("use 'prod_east'", list.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnapshotSave_MissingOutputFolder_NamesTheFolder()
    {
        var target = _env.Combine("no", "such", "dir", "s.db");

        var save = await Cli.RunAsync("snapshot", "save", target, "--endpoints", "http://127.0.0.1:1");

        Assert.Equal(1, save.ExitCode);
        Assert.Contains($"output folder '{Path.GetDirectoryName(target)}' does not exist", save.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(".part", save.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestoreDryRun_WithoutAgentTls_SaysWhichSettingsAreMissing()
    {
        await _env.InitializeKeysAsync();
        var config = _env.WriteConfig(new Dictionary<string, IReadOnlyList<string>> { ["lab"] = ["http://127.0.0.1:1"] });

        var restore = await Cli.RunAsync("restore", "run", "--config", config, "--cluster", "lab", "--backup", "latest", "--dry-run");

        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("Restore:AgentTls:CertFile", restore.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("No orchestrator", restore.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("give one of --backup ID|latest, --from-file FILE.db, or --to-revision/--to-time for a point in time")]
    [InlineData("give one of --backup ID|latest, --from-file FILE.db, or --to-revision/--to-time for a point in time", "--backup", "latest", "--from-file", "x.db")]
    [InlineData("give one of --backup ID|latest, --from-file FILE.db, or --to-revision/--to-time for a point in time", "--backup", "latest", "--to-revision", "12")]
    [InlineData("give one of --backup ID|latest, --from-file FILE.db, or --to-revision/--to-time for a point in time", "--from-file", "x.db", "--to-time", "2026-11-30T21:00:00Z")]
    [InlineData("--skip-hash-check only applies to --from-file", "--backup", "latest", "--skip-hash-check")]
    public async Task RestoreRun_SourceOptionsMisused_OneLineUsageError(string expected, params string[] extra)
    {
        var restore = await Cli.RunAsync(["restore", "run", "--cluster", "lab", "--dry-run", .. extra]);

        Assert.Equal(2, restore.ExitCode);
        Assert.Contains(expected, restore.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", restore.Err, StringComparison.Ordinal);
    }

    public void Dispose() => _env.Dispose();
}
