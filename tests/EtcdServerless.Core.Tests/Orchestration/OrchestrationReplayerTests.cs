using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Tests.Orchestration.Replay;

namespace EtcdServerless.Core.Tests.Orchestration;

public sealed class OrchestrationReplayerTests
{
    private static OrchestrationRegistry Registry(EchoActivity? echo = null) => new OrchestrationRegistry()
        .AddActivity(echo ?? new EchoActivity())
        .AddActivity(new EchoActivity("Other"))
        .AddOrchestrator(new GreetOrchestrator { Retry = new ActivityRetryPolicy(3, TimeSpan.FromSeconds(5)), Pause = TimeSpan.FromSeconds(30) })
        .AddOrchestrator(new ClockBranchOrchestrator())
        .AddOrchestrator(new RandomBranchOrchestrator())
        .AddOrchestrator(new RealDelayOrchestrator());

    private static async Task<OrchestrationState> RecordAsync(OrchestrationRegistry registry, string name, object input, FakeTimeProvider? time = null, Func<Task>? drive = null)
    {
        await using var runner = new InProcessOrchestrationRunner(registry, time);
        var started = await runner.StartAsync(name, $"{name}-1", input);
        if (drive is not null)
        {
            await drive();
        }

        return await runner.WaitForCompletionAsync(started.InstanceId);
    }

    [Fact]
    public async Task ReplayAsync_DeterministicOrchestratorWithFanOutRetriesAndTimers_NoDivergence()
    {
        // Arrange: a run with a retried call, a timer and fan-out.
        var time = new FakeTimeProvider();
        var echo = new EchoActivity { FailFirst = 1 };
        var registry = Registry(echo);
        var recorded = await RecordAsync(registry, "Greet", new GreetInput("x", 4), time, async () =>
        {
            await time.WaitForTimersAsync();
            time.Advance(TimeSpan.FromSeconds(5));
            await time.WaitForTimersAsync();
            time.Advance(TimeSpan.FromSeconds(30));
        });
        Assert.Equal(OrchestrationRuntimeStatus.Completed, recorded.RuntimeStatus);

        // Act: replay twice (an orchestrator replays many times on Durable).
        var first = await OrchestrationReplayer.ReplayAsync(registry, recorded);
        var second = await OrchestrationReplayer.ReplayAsync(registry, recorded);

        // Assert
        Assert.Equal(recorded.SerializedOutput, first.OutputJson);
        Assert.Equal(recorded.SerializedOutput, second.OutputJson);
        Assert.Equal(6, echo.Calls); // the replays called no activity
    }

    [Fact]
    public async Task ReplayAsync_OrchestratorReadsWallClock_Diverges()
    {
        var registry = Registry();
        var recorded = await RecordAsync(registry, "ClockBranch", "x");
        await Task.Delay(TimeSpan.FromMilliseconds(2));

        var ex = await Assert.ThrowsAsync<OrchestrationDivergenceException>(() => OrchestrationReplayer.ReplayAsync(registry, recorded));

        Assert.Contains("ClockBranch", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Echo", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayAsync_OrchestratorUsesGuidNewGuid_Diverges()
    {
        var registry = Registry();
        var recorded = await RecordAsync(registry, "RandomBranch", "x");

        await Assert.ThrowsAsync<OrchestrationDivergenceException>(() => OrchestrationReplayer.ReplayAsync(registry, recorded));
    }

    [Fact]
    public async Task ReplayAsync_OrchestratorAwaitsRealDelay_Diverges()
    {
        var registry = Registry();
        var recorded = await RecordAsync(registry, "RealDelay", "x");

        var ex = await Assert.ThrowsAsync<OrchestrationDivergenceException>(() => OrchestrationReplayer.ReplayAsync(registry, recorded));

        Assert.Contains("waits for something", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayAsync_HistoryWithACallMissing_Diverges()
    {
        var registry = Registry();
        var time = new FakeTimeProvider();
        var recorded = await RecordAsync(registry, "Greet", new GreetInput("x", 2), time, async () =>
        {
            await time.WaitForTimersAsync();
            time.Advance(TimeSpan.FromSeconds(30));
        });

        // Drop the last activity call and its completion: the replay makes a call the history lacks.
        var lastCall = recorded.History.Last(e => e.Kind == HistoryEventKind.ActivityScheduled).Sequence;
        var truncated = recorded with { History = [.. recorded.History.Where(e => e.Sequence != lastCall)] };

        var ex = await Assert.ThrowsAsync<OrchestrationDivergenceException>(() => OrchestrationReplayer.ReplayAsync(registry, truncated));
        Assert.Contains("did not make", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayAsync_HistoryWithAnExtraCall_Diverges()
    {
        var registry = Registry();
        var recorded = await RecordAsync(registry, "ClockBranch", "x");

        // Rename the orchestrator's history onto another one with a different first call.
        var ex = await Assert.ThrowsAsync<OrchestrationDivergenceException>(() =>
            OrchestrationReplayer.ReplayAsync(registry, "RandomBranch", "r", recorded.History));
        Assert.Contains("RandomBranch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayAsync_TamperedActivityOutput_ResultDiverges()
    {
        var registry = Registry();
        var time = new FakeTimeProvider();
        var recorded = await RecordAsync(registry, "Greet", new GreetInput("x", 1), time, async () =>
        {
            await time.WaitForTimersAsync();
            time.Advance(TimeSpan.FromSeconds(30));
        });
        var history = recorded.History.Select(e => e.Kind == HistoryEventKind.ActivityCompleted && e.Sequence == 0 ? e with { OutputJson = "\"tampered\"" } : e).ToList();

        var ex = await Assert.ThrowsAsync<OrchestrationDivergenceException>(() =>
            OrchestrationReplayer.ReplayAsync(registry, recorded with { History = history }));
        Assert.Contains("ended differently", ex.Message, StringComparison.Ordinal);
    }
}
