using EtcdServerless.Core.Orchestration;

namespace EtcdServerless.Core.Tests.Orchestration;

internal sealed record GreetInput(string Name, int Count);

internal sealed record GreetOutput(IReadOnlyList<string> Greetings, DateTime FinishedAt, Guid RunId);

/// <summary>Echoes its input with a prefix; optionally blocks on a gate or throws the first N times.</summary>
internal sealed class EchoActivity(string name = "Echo") : IActivity<string, string>
{
    private int _calls;

    public string Name => name;

    public TaskCompletionSource? Gate { get; set; }

    public int FailFirst { get; set; }

    /// <summary>Completes when the activity is first called.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Calls => Volatile.Read(ref _calls);

    public async Task<string> RunAsync(string input, CancellationToken cancellationToken = default)
    {
        var call = Interlocked.Increment(ref _calls);
        Entered.TrySetResult();
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (call <= FailFirst)
        {
            throw new InvalidOperationException($"echo failure {call}");
        }

        return $"hello {input}";
    }
}

/// <summary>A well-behaved orchestrator: fan-out/fan-in, a timer, custom status, deterministic time and GUIDs.</summary>
internal sealed class GreetOrchestrator : IOrchestrator<GreetInput, GreetOutput>
{
    public string Name => "Greet";

    public ActivityRetryPolicy? Retry { get; init; }

    public TimeSpan Pause { get; init; } = TimeSpan.Zero;

    public async Task<GreetOutput> RunAsync(IOrchestrationContext context, GreetInput input)
    {
        context.SetCustomStatus(new { phase = "greeting" });
        var calls = Enumerable.Range(0, input.Count).Select(i => context.CallActivityAsync<string>("Echo", $"{input.Name}-{i}", Retry)).ToList();
        var greetings = await Task.WhenAll(calls).ConfigureAwait(true);
        if (Pause > TimeSpan.Zero)
        {
            await context.CreateTimer(context.CurrentUtcDateTime + Pause, CancellationToken.None).ConfigureAwait(true);
        }

        var last = await context.CallActivityAsync<string>("Echo", $"done at {context.CurrentUtcDateTime:O}").ConfigureAwait(true);
        context.SetCustomStatus(new { phase = "done" });
        return new GreetOutput([.. greetings, last], context.CurrentUtcDateTime, context.NewGuid());
    }
}

/// <summary>Deliberately non-deterministic: branches on the wall clock.</summary>
internal sealed class ClockBranchOrchestrator : IOrchestrator<string, string>
{
    public string Name => "ClockBranch";

    public async Task<string> RunAsync(IOrchestrationContext context, string input)
    {
#pragma warning disable CA1305
        var stamp = DateTime.UtcNow.Ticks.ToString();
#pragma warning restore CA1305
        return await context.CallActivityAsync<string>("Echo", $"{input}@{stamp}").ConfigureAwait(true);
    }
}

/// <summary>Deliberately non-deterministic: picks a branch from a random GUID.</summary>
internal sealed class RandomBranchOrchestrator : IOrchestrator<string, string>
{
    public string Name => "RandomBranch";

    public async Task<string> RunAsync(IOrchestrationContext context, string input)
    {
        var first = await context.CallActivityAsync<string>("Echo", input).ConfigureAwait(true);

        // Two random GUIDs in a row: on replay the branch (or the id passed on) differs.
        var id = Guid.NewGuid();
        return id.ToByteArray()[0] % 2 == 0
            ? await context.CallActivityAsync<string>("Echo", $"even {id}").ConfigureAwait(true)
            : await context.CallActivityAsync<string>("Other", $"odd {id}").ConfigureAwait(true);
    }
}

/// <summary>Deliberately non-deterministic: awaits a real delay (not a durable timer).</summary>
internal sealed class RealDelayOrchestrator : IOrchestrator<string, string>
{
    public string Name => "RealDelay";

    public async Task<string> RunAsync(IOrchestrationContext context, string input)
    {
        var first = await context.CallActivityAsync<string>("Echo", input).ConfigureAwait(true);
        await Task.Delay(TimeSpan.FromMilliseconds(1)).ConfigureAwait(true);
        return first;
    }
}

/// <summary>Calls an activity and lets its failure escape, or catches it when asked.</summary>
internal sealed class FailingCallOrchestrator(string activity, bool catchFailure) : IOrchestrator<string, string>
{
    public string Name => "FailingCall";

    public async Task<string> RunAsync(IOrchestrationContext context, string input)
    {
        try
        {
            return await context.CallActivityAsync<string>(activity, input).ConfigureAwait(true);
        }
        catch (ActivityFailedException ex) when (catchFailure)
        {
            return $"caught {ex.FailureDetails.ErrorType}: {ex.FailureDetails.ErrorMessage}";
        }
    }
}

internal sealed record BadInput(string Name, Action Callback);

/// <summary>Passes a non-serializable input to an activity.</summary>
internal sealed class BadInputOrchestrator : IOrchestrator<string, string>
{
    public string Name => "BadInput";

    public Task<string> RunAsync(IOrchestrationContext context, string input) =>
        context.CallActivityAsync<string>("Echo", new BadInput(input, () => { }));
}
