using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.InProcess;
using EtcdServerless.Workflows.Restore;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EtcdServerless.Workflows.Tests.InProcess;

/// <summary>
/// The in-process engine of <c>serve</c> forgets finished runs by count and by age (issue 9: it kept every one
/// forever). The runs are real <see cref="RestoreOrchestrator"/> runs that end at once: an unconfirmed restore is
/// rejected before any activity.
/// </summary>
public sealed class InProcessDurableTaskClientTests
{
    [Fact]
    public async Task ScheduleNewOrchestrationInstanceAsync_MoreFinishedRunsThanKept_ForgetsTheOldest()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T22:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var options = new EtcdBackupOptions { Api = new ApiOptions { KeepFinishedRuns = 3, KeepFinishedRunsMinutes = 24 * 60 } };
        await using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddEtcdBackup(options)
            .AddInProcessWorkflows()
            .BuildServiceProvider();
        var client = services.GetRequiredService<DurableTaskClient>();

        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await RunToEndAsync(client));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // The sixth start saw five finished runs and kept the newest three; the sixth itself is the fourth now.
        Assert.Null(await client.GetInstanceAsync(ids[0]));
        Assert.Null(await client.GetInstanceAsync(ids[1]));
        foreach (var kept in ids.Skip(2))
        {
            var metadata = await client.GetInstanceAsync(kept, getInputsAndOutputs: true);
            Assert.NotNull(metadata);
            Assert.Equal(OrchestrationRuntimeStatus.Completed, metadata.RuntimeStatus);
        }
    }

    [Fact]
    public async Task ScheduleNewOrchestrationInstanceAsync_FinishedLongerAgoThanKeepFor_ForgetsItAndKeepsRecentOnes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T22:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var services = new ServiceCollection().BuildServiceProvider();
        await using var client = new InProcessDurableTaskClient(services, time, NullLoggerFactory.Instance, EtcdBackupServices.DataConverter,
            new InProcessRetention(100, TimeSpan.FromMinutes(10)));

        var old = await RunToEndAsync(client);
        time.Advance(TimeSpan.FromMinutes(9));
        var recent = await RunToEndAsync(client);
        time.Advance(TimeSpan.FromMinutes(2));

        // Nothing is forgotten until a start: the map only grows there.
        Assert.NotNull(await client.GetInstanceAsync(old));
        var latest = await RunToEndAsync(client);

        Assert.Null(await client.GetInstanceAsync(old));
        Assert.NotNull(await client.GetInstanceAsync(recent));
        Assert.NotNull(await client.GetInstanceAsync(latest));
    }

    [Theory]
    [InlineData(0, 60, "Api:KeepFinishedRuns")]
    [InlineData(10, 0, "Api:KeepFinishedRunsMinutes")]
    public void Validate_NonPositiveRetention_IsAConfigurationError(int count, int minutes, string key)
    {
        var options = new EtcdBackupOptions { Api = new ApiOptions { KeepFinishedRuns = count, KeepFinishedRunsMinutes = minutes } };

        var errors = EtcdBackupOptionsValidator.Validate(options);

        Assert.Contains(errors, e => e.Key == key);
    }

    private static async Task<string> RunToEndAsync(DurableTaskClient client)
    {
        var request = new RestoreRequest { Cluster = "c1", Backup = "latest", Confirm = "not-the-cluster" };
        var id = await client.ScheduleNewOrchestrationInstanceAsync(RestoreOrchestrator.OrchestrationName, request);
        var state = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(RestoreOutcome.Rejected, state.ReadOutputAs<RestoreResult>()!.Outcome);
        return id;
    }
}
