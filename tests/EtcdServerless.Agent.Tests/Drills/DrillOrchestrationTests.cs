using System.Collections.Concurrent;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Drills;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Agent.Tests.Drills;

/// <summary>
/// The drill orchestration on the real Durable Task engine, started through the gateway as the schedules start it,
/// with its activity drilling on a real agent over mutual TLS (Clusters:C:Drill:AgentUrl), as on Azure.
/// </summary>
public sealed class DrillOrchestrationTests(AgentDrillFixture f) : IClassFixture<AgentDrillFixture>
{
    [Fact]
    public async Task Drill_StartedTwiceWhileRunning_RunsOnceOnTheAgentRecordsAndLogsDrillPassed()
    {
        var logs = new CapturingLoggerProvider();
        await using var engine = await StartEngineAsync(f.Keys, logs);

        var first = await engine.Gateway.StartDrillAsync(AgentDrillFixture.Cluster, "latest", BackupTrigger.Scheduled);
        var second = await engine.Gateway.StartDrillAsync(AgentDrillFixture.Cluster, "latest", BackupTrigger.Scheduled);
        var other = await engine.Gateway.StartDrillAsync(AgentDrillFixture.Cluster, f.Manifest.BackupId, BackupTrigger.OnDemand);
        var (_, result) = await engine.CompleteAsync<DrillRunResult>(first.InstanceId, TimeSpan.FromMinutes(5));

        // One drill per cluster at a time: the same request is joined, a different one refused while it runs.
        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.True(second.Deduplicated);
        Assert.NotNull(other.Conflict);
        Assert.StartsWith($"drill-{AgentDrillFixture.Cluster}-", first.InstanceId, StringComparison.Ordinal);

        Assert.True(result.Succeeded, result.Message);
        Assert.Equal(f.Manifest.BackupId, result.BackupId);
        Assert.Equal($"agent {f.AgentUrl}", result.Drill!.RanOn);
        Assert.Contains(result.Drill.Checks, c => c.Name == "receive");
        Assert.NotNull(result.Record);
        var recorded = await DrillRecords.GetLatestAsync(f.Store, AgentDrillFixture.Cluster, f.Manifest.BackupId);
        Assert.Equal(result.Drill.Started, recorded!.Started);
        Assert.Contains(logs.Events, e => e.Name == "DrillPassed");
        Assert.DoesNotContain(logs.Events, e => e.Name == "DrillFailed");
    }

    [Fact]
    public async Task Drill_WithAKeyStoreThatCannotUnwrapTheBackup_FailsAtDecryptAndLogsDrillFailed()
    {
        using var otherKeys = new EtcdServerless.Testing.Infrastructure.TempDirectory("etcdsl-drill-keys");
        var keys = new LocalKeyStore(otherKeys.Combine("keys"));
        (await keys.InitializeAsync()).Dispose();
        var logs = new CapturingLoggerProvider();
        await using var engine = await StartEngineAsync(keys, logs);

        var started = await engine.Gateway.StartDrillAsync(AgentDrillFixture.Cluster, f.Manifest.BackupId, BackupTrigger.Scheduled);
        var (_, result) = await engine.CompleteAsync<DrillRunResult>(started.InstanceId, TimeSpan.FromMinutes(5));

        Assert.False(result.Succeeded);
        Assert.Equal("decrypt", result.Drill!.FirstFailure!.Name);
        Assert.Contains("failed at check decrypt", result.Message, StringComparison.Ordinal);
        var failed = Assert.Single(logs.Events, e => e.Name == "DrillFailed");
        Assert.Equal(LogLevel.Error, failed.Level);
        Assert.Contains(f.Manifest.BackupId, failed.Message, StringComparison.Ordinal);
        Assert.Equal("failed", (await DrillRecords.GetLatestAsync(f.Store, AgentDrillFixture.Cluster, f.Manifest.BackupId))!.Outcome);
    }

    [Fact]
    public async Task Drill_ClusterWithoutBackups_EndsUnsuccessfulNamingWhy()
    {
        var empty = new LocalDirectoryBackupStore(f.Temp.Combine($"empty-{Guid.NewGuid():N}"));
        await using var engine = await WorkflowTestHost.StartAsync(services => services
            .AddSingleton<IBackupStore>(empty)
            .AddSingleton<IKeyStore>(f.Keys)
            .AddEtcdBackup(Options()));

        var started = await engine.Gateway.StartDrillAsync(AgentDrillFixture.Cluster, "latest", BackupTrigger.Scheduled);
        var (_, result) = await engine.CompleteAsync<DrillRunResult>(started.InstanceId);

        Assert.False(result.Succeeded);
        Assert.Null(result.Drill);
        Assert.Contains("has no backup to drill", result.Message, StringComparison.Ordinal);
    }

    private Task<WorkflowTestHost> StartEngineAsync(IKeyStore keys, CapturingLoggerProvider logs) =>
        WorkflowTestHost.StartAsync(services => services
            .AddSingleton<ILoggerProvider>(logs)
            .AddSingleton<IBackupStore>(f.Store)
            .AddSingleton(keys)
            .AddEtcdBackup(Options(), new BackupPipelineOptions { TempDirectory = f.Temp.Path }));

    private EtcdBackupOptions Options()
    {
        var options = new EtcdBackupOptions { Restore = f.Options.Restore };
        options.Clusters[AgentDrillFixture.Cluster] = new ClusterOptions
        {
            Endpoints = f.Options.Clusters[AgentDrillFixture.Cluster].Endpoints,
            Drill = new ClusterDrillOptions { AgentUrl = f.AgentUrl, Schedule = "0 0 3 * * *" },
        };
        return options;
    }

    private sealed record LogEvent(string Name, LogLevel Level, string Message);

    private sealed class CapturingLoggerProvider : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<LogEvent> _events = new();

        public IReadOnlyList<LogEvent> Events => [.. _events];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name is { } name)
            {
                _events.Enqueue(new LogEvent(name, logLevel, formatter(state, exception)));
            }
        }

        public void Dispose()
        {
        }
    }
}
