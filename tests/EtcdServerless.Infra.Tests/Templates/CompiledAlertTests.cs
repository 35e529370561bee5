using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EtcdServerless.Core.Monitoring;
using EtcdServerless.Infra.Tests.Bicep;

namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>
/// The alert rules of the compiled environments (<see cref="CompiledDeployment"/>, what ARM would deploy) against the
/// code's telemetry contract: the metric names are <see cref="BackupMetrics"/>'s constants, the events are the code's
/// [LoggerMessage] event names.
/// </summary>
public sealed class CompiledAlertTests
{
    [Theory]
    [InlineData("dev")]
    [InlineData("prod")]
    public async Task Environment_AlertRules_StaleFailedBackupFailedDrillFailedRestore_OnlyOnTheComponent(string environment)
    {
        var compiled = await CompiledDeployment.ForEnvironmentAsync(environment);
        var component = compiled.OfType("Microsoft.Insights/components").Single();

        var rules = compiled.OfType("Microsoft.Insights/scheduledQueryRules").ToList();

        Assert.Equal(
            ["backup-failed", "drill-failed", "restore-failed", "stale-backup"],
            rules.Select(r => ((string)r["name"]!)[$"etcd-backup-{environment}-".Length..]).Order(StringComparer.Ordinal));
        foreach (var rule in rules)
        {
            // Least privilege: a rule reads the one component and runs with no identity of its own.
            var scopes = rule["properties"]!["scopes"]!.AsArray().Select(s => (string)s!).ToList();
            Assert.Equal([(string)component["id"]!], scopes);
            Assert.Null(rule["identity"]);
            var criterion = rule["properties"]!["criteria"]!["allOf"]!.AsArray().Single()!;
            Assert.Equal("cluster", (string)criterion["dimensions"]!.AsArray().Single()!["name"]!);
        }
    }

    [Theory]
    [InlineData("stale-backup", BackupMetrics.LastSuccessTimestamp, "BackupSucceeded")]
    [InlineData("backup-failed", BackupMetrics.Failures, "BackupFailed")]
    [InlineData("drill-failed", BackupMetrics.DrillLastPassed, "DrillFailed")]
    public async Task Prod_AlertQuery_ReadsTheCodesInstrumentAndEvent(string rule, string instrument, string eventName)
    {
        var compiled = await CompiledDeployment.ForEnvironmentAsync("prod");

        var query = Query(compiled, rule);

        Assert.Contains($"name == '{instrument}'", query, StringComparison.Ordinal);
        Assert.Contains("customDimensions.cluster", query, StringComparison.Ordinal);
        Assert.Contains($"event == '{eventName}'", query, StringComparison.Ordinal);
        Assert.DoesNotContain("__EVENTS__", query, StringComparison.Ordinal);
        Assert.DoesNotContain("__EXPECTED__", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllOptions_DeltaLagRule_OnlyForClustersWithDeltasAndReadsTheCodesInstrument()
    {
        var compiled = await CompiledDeployment.CompileAsync(
            RepositoryFiles.Infra, Path.Combine(RepositoryFiles.Samples, "all-options.bicepparam"));

        var query = Query(compiled, "delta-lag");

        Assert.Contains($"name == '{BackupMetrics.DeltaLastCaptureTimestamp}'", query, StringComparison.Ordinal);
        Assert.Contains("'alpha', 10", query, StringComparison.Ordinal);
        Assert.DoesNotContain("'beta'", query, StringComparison.Ordinal);
        Assert.DoesNotContain("__EXPECTED__", query, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BackupFailed")]
    [InlineData("DrillFailed")]
    public void Alerts_FailureEvents_AreEmittedByTheCodeWithACluster(string eventName)
    {
        var sources = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText);

        Assert.Contains(sources, t => Regex.IsMatch(t, $@"EventName\s*=\s*""{eventName}""[^\]]*\{{Cluster\}}"));
    }

    private static string Query(CompiledEnvironment compiled, string rule) =>
        (string)compiled.OfType("Microsoft.Insights/scheduledQueryRules")
            .Single(r => ((string)r["name"]!).EndsWith("-" + rule, StringComparison.Ordinal))["properties"]!["criteria"]!["allOf"]!.AsArray().Single()!["query"]!;
}
