using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Tests.Orchestration.Replay;

namespace EtcdServerless.Core.Tests.Orchestration;

public sealed class InProcessOrchestrationRunnerTests
{
    private static (OrchestrationRegistry Registry, EchoActivity Echo) Registry(params object[] orchestrators)
    {
        var echo = new EchoActivity();
        var registry = new OrchestrationRegistry().AddActivity(echo);
        foreach (var o in orchestrators)
        {
            switch (o)
            {
                case IOrchestrator<GreetInput, GreetOutput> greet: registry.AddOrchestrator(greet); break;
                case IOrchestrator<string, string> s: registry.AddOrchestrator(s); break;
                default: throw new ArgumentException("unknown orchestrator type");
            }
        }

        return (registry, echo);
    }

    [Fact]
    public async Task RunAsync_FanOutFanIn_CompletesWithOutputsInCallOrderAndHistory()
    {
        // Arrange
        var (registry, _) = Registry(new GreetOrchestrator());
        await using var runner = new InProcessOrchestrationRunner(registry);

        // Act
        var state = await runner.RunAsync("Greet", "greet-1", new GreetInput("x", 3));

        // Assert
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var output = state.ReadOutputAs<GreetOutput>()!;
        Assert.Equal(["hello x-0", "hello x-1", "hello x-2"], output.Greetings.Take(3));
        Assert.Equal(4, state.History.Count(e => e.Kind == HistoryEventKind.ActivityScheduled));
        Assert.Equal(4, state.History.Count(e => e.Kind == HistoryEventKind.ActivityCompleted));
        Assert.Equal(HistoryEventKind.ExecutionCompleted, state.History[^1].Kind);
        Assert.Contains("done", state.SerializedCustomStatus, StringComparison.Ordinal);
        Assert.NotNull(state.CompletedAt);
    }

    [Fact]
    public async Task StartAsync_SameInstanceIdWhileRunning_DeduplicatesAndRunsOnce()
    {
        // Arrange
        var (registry, echo) = Registry(new GreetOrchestrator());
        echo.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var runner = new InProcessOrchestrationRunner(registry);

        // Act
        var first = await runner.StartAsync("Greet", "backup-a", new GreetInput("x", 1));
        var second = await runner.StartAsync("Greet", "backup-a", new GreetInput("y", 1));
        await echo.Entered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var whileRunning = runner.GetStatus("backup-a")!;
        echo.Gate.SetResult();
        var done = await runner.WaitForCompletionAsync("backup-a");

        // Assert
        Assert.False(first.Deduplicated);
        Assert.True(second.Deduplicated);
        Assert.Equal("backup-a", second.InstanceId);
        Assert.True(whileRunning.IsRunning);
        Assert.Contains("greeting", whileRunning.SerializedCustomStatus, StringComparison.Ordinal);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(2, echo.Calls); // one fan-out call + the final call of a single run
        Assert.Contains("hello x-0", done.SerializedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_SameConcurrencyKeyDifferentIds_SecondIsRefusedUntilFirstEnds()
    {
        // Arrange
        var (registry, echo) = Registry(new GreetOrchestrator());
        echo.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var runner = new InProcessOrchestrationRunner(registry);

        // Act
        var first = await runner.StartAsync("Greet", "backup-a-1", new GreetInput("x", 1), concurrencyKey: "backup/a");
        var overlapping = await runner.StartAsync("Greet", "backup-a-2", new GreetInput("x", 1), concurrencyKey: "backup/a");
        var otherCluster = await runner.StartAsync("Greet", "backup-b-1", new GreetInput("x", 1), concurrencyKey: "backup/b");
        echo.Gate.SetResult();
        await runner.WaitForCompletionAsync(first.InstanceId);
        await runner.WaitForCompletionAsync(otherCluster.InstanceId);
        var after = await runner.StartAsync("Greet", "backup-a-3", new GreetInput("x", 1), concurrencyKey: "backup/a");
        var afterState = await runner.WaitForCompletionAsync(after.InstanceId);

        // Assert
        Assert.True(overlapping.Deduplicated);
        Assert.Equal("backup-a-1", overlapping.InstanceId);
        Assert.Null(runner.GetStatus("backup-a-2"));
        Assert.False(otherCluster.Deduplicated);
        Assert.False(after.Deduplicated);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, afterState.RuntimeStatus);
    }

    [Fact]
    public async Task StartAsync_FinishedInstanceId_StartsANewRun()
    {
        var (registry, echo) = Registry(new GreetOrchestrator());
        await using var runner = new InProcessOrchestrationRunner(registry);

        await runner.RunAsync("Greet", "again", new GreetInput("x", 1));
        var second = await runner.StartAsync("Greet", "again", new GreetInput("y", 1));
        var state = await runner.WaitForCompletionAsync("again");

        Assert.False(second.Deduplicated);
        Assert.Contains("hello y-0", state.SerializedOutput, StringComparison.Ordinal);
        Assert.Equal(4, echo.Calls);
    }

    [Fact]
    public async Task RunAsync_ActivityFailsTwiceWithRetryPolicy_RetriesAfterDurableTimersWithBackoff()
    {
        // Arrange
        var time = new FakeTimeProvider();
        var retry = new ActivityRetryPolicy(3, TimeSpan.FromSeconds(10), backoffCoefficient: 2);
        var (registry, echo) = Registry(new GreetOrchestrator { Retry = retry });
        echo.FailFirst = 2;
        await using var runner = new InProcessOrchestrationRunner(registry, time);

        // Act
        var started = await runner.StartAsync("Greet", "retry", new GreetInput("x", 1));
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromSeconds(10));
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromSeconds(20));
        var state = await runner.WaitForCompletionAsync(started.InstanceId);

        // Assert
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal(2, state.History.Count(e => e.Kind == HistoryEventKind.ActivityFailed));
        var timers = state.History.Where(e => e.Kind == HistoryEventKind.TimerCreated).ToList();
        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)], timers.Select(t => t.FireAtUtc!.Value - t.Timestamp));
        Assert.Equal(2, state.History.Count(e => e.Kind == HistoryEventKind.TimerFired));
        Assert.Equal(time.GetUtcNow().UtcDateTime, state.ReadOutputAs<GreetOutput>()!.FinishedAt);
    }

    [Fact]
    public async Task RunAsync_ActivityKeepsFailing_RetriesExhaustedAndInstanceFailsWithDetails()
    {
        var time = new FakeTimeProvider();
        var (registry, echo) = Registry(new GreetOrchestrator { Retry = new ActivityRetryPolicy(2, TimeSpan.FromMinutes(1)) });
        echo.FailFirst = 100;
        await using var runner = new InProcessOrchestrationRunner(registry, time);

        var started = await runner.StartAsync("Greet", "exhausted", new GreetInput("x", 1));
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(1));
        var state = await runner.WaitForCompletionAsync(started.InstanceId);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.Equal(2, echo.Calls);
        Assert.Equal(typeof(ActivityFailedException).FullName, state.Failure!.ErrorType);
        Assert.Equal(typeof(InvalidOperationException).FullName, state.Failure.InnerFailure!.ErrorType);
        Assert.Equal("echo failure 2", state.Failure.InnerFailure.ErrorMessage);
    }

    [Fact]
    public async Task RunAsync_TimerWithFakeClock_WaitsUntilTheClockReachesIt()
    {
        var time = new FakeTimeProvider();
        var (registry, _) = Registry(new GreetOrchestrator { Pause = TimeSpan.FromMinutes(5) });
        await using var runner = new InProcessOrchestrationRunner(registry, time);

        var started = await runner.StartAsync("Greet", "timer", new GreetInput("x", 2));
        await time.WaitForTimersAsync();
        time.Advance(TimeSpan.FromMinutes(4));
        var before = runner.GetStatus(started.InstanceId)!;
        time.Advance(TimeSpan.FromMinutes(1));
        var state = await runner.WaitForCompletionAsync(started.InstanceId);

        Assert.True(before.IsRunning);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        var start = state.History[0].Timestamp;
        Assert.Equal(start + TimeSpan.FromMinutes(5), state.ReadOutputAs<GreetOutput>()!.FinishedAt);
    }

    [Fact]
    public async Task RunAsync_ActivityThrowsAndOrchestratorCatches_GetsFailureDetails()
    {
        var (registry, echo) = Registry(new FailingCallOrchestrator("Echo", catchFailure: true));
        echo.FailFirst = 1;
        await using var runner = new InProcessOrchestrationRunner(registry);

        var state = await runner.RunAsync("FailingCall", null, "x");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, state.RuntimeStatus);
        Assert.Equal("caught System.InvalidOperationException: echo failure 1", state.ReadOutputAs<string>());
    }

    [Fact]
    public async Task RunAsync_UnknownActivity_InstanceFails()
    {
        var (registry, _) = Registry(new FailingCallOrchestrator("Missing", catchFailure: false));
        await using var runner = new InProcessOrchestrationRunner(registry);

        var state = await runner.RunAsync("FailingCall", null, "x");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.Contains("Missing", state.Failure!.InnerFailure!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NonSerializableActivityInput_InstanceFailsWithoutCallingTheActivity()
    {
        var (registry, echo) = Registry(new BadInputOrchestrator());
        await using var runner = new InProcessOrchestrationRunner(registry);

        var state = await runner.RunAsync("BadInput", null, "x");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
        Assert.Equal(typeof(NotSupportedException).FullName, state.Failure!.ErrorType);
        Assert.Equal(0, echo.Calls);
    }

    [Fact]
    public async Task StartAsync_UnknownOrchestratorOrBadInput_Throws()
    {
        var (registry, _) = Registry(new BadInputOrchestrator());
        await using var runner = new InProcessOrchestrationRunner(registry);

        await Assert.ThrowsAsync<ArgumentException>(() => runner.StartAsync("Nope", null, "x"));
        await Assert.ThrowsAsync<NotSupportedException>(() => runner.StartAsync("BadInput", null, new BadInput("x", () => { })));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => runner.WaitForCompletionAsync("unknown"));
        Assert.Null(runner.GetStatus("unknown"));
    }

    [Fact]
    public async Task DisposeAsync_WhileActivityRuns_InstanceEndsFailed()
    {
        var (registry, echo) = Registry(new GreetOrchestrator());
        echo.Gate = new TaskCompletionSource();
        var runner = new InProcessOrchestrationRunner(registry);
        var started = await runner.StartAsync("Greet", "stopped", new GreetInput("x", 1));

        await runner.DisposeAsync();

        var state = runner.GetStatus(started.InstanceId)!;
        Assert.Equal(OrchestrationRuntimeStatus.Failed, state.RuntimeStatus);
    }

    [Fact]
    public void ActivityRetryPolicy_Backoff_IsCappedAndValidated()
    {
        var policy = new ActivityRetryPolicy(5, TimeSpan.FromSeconds(1), 3, TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(1), policy.DelayBeforeRetry(1));
        Assert.Equal(TimeSpan.FromSeconds(3), policy.DelayBeforeRetry(2));
        Assert.Equal(TimeSpan.FromSeconds(5), policy.DelayBeforeRetry(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivityRetryPolicy(0, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivityRetryPolicy(1, TimeSpan.Zero, 0.5));
    }
}
