using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using EtcdServerless.Core.Tests.Orchestration.Replay;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Tests.Restore;

/// <summary>
/// Determinism of <see cref="RestoreOrchestration"/> under H6's replayer, with fake activities (the real ones need
/// agents and etcd; those paths run end to end in EtcdServerless.Agent.Tests).
/// </summary>
public sealed class RestoreOrchestrationReplayTests
{
    private static readonly RestoreTargetMember[] s_members =
    [
        new() { Name = "m1", PeerUrl = "http://10.0.0.1:2380", ClientUrl = "http://10.0.0.1:2379", AgentUrl = "https://10.0.0.1:7443" },
        new() { Name = "m2", PeerUrl = "http://10.0.0.2:2380", ClientUrl = "http://10.0.0.2:2379", AgentUrl = "https://10.0.0.2:7443" },
        new() { Name = "m3", PeerUrl = "http://10.0.0.3:2380", ClientUrl = "http://10.0.0.3:2379", AgentUrl = "https://10.0.0.3:7443" },
    ];

    [Theory]
    [InlineData(null, "Succeeded", "done")]
    [InlineData("m2", "RolledBack", "restore")]
    public async Task ReplayAsync_RecordedRestore_NoDivergenceAndSameResult(string? failing, string outcome, string phase)
    {
        var fakes = new FakeRestoreActivities(failing);
        var registry = fakes.Register(new OrchestrationRegistry().AddOrchestrator(new RestoreOrchestration()));
        OrchestrationState recorded;
        await using (var runner = new InProcessOrchestrationRunner(registry))
        {
            var started = await runner.StartAsync(RestoreOrchestration.OrchestrationName, "restore-1", Request());
            recorded = await runner.WaitForCompletionAsync(started.InstanceId);
        }

        var result = recorded.ReadOutputAs<RestoreResult>()!;
        Assert.Equal(outcome, result.Outcome.ToString());
        Assert.Equal(phase, result.Phase);
        var calls = fakes.Calls;

        var replayed = await OrchestrationReplayer.ReplayAsync(registry, recorded);

        Assert.Equal(recorded.SerializedOutput, replayed.OutputJson);
        Assert.Equal(calls, fakes.Calls);
        if (failing is not null)
        {
            Assert.All(result.Members, m => Assert.Equal("rollback", m.Steps[^1].Name));
        }
    }

    [Fact]
    public async Task RunAsync_DryRun_CallsNoMemberStep()
    {
        var fakes = new FakeRestoreActivities(null);
        var registry = fakes.Register(new OrchestrationRegistry().AddOrchestrator(new RestoreOrchestration()));
        await using var runner = new InProcessOrchestrationRunner(registry);
        var state = await runner.RunAsync(RestoreOrchestration.OrchestrationName, null, Request() with { DryRun = true, Confirm = null });
        var result = state.ReadOutputAs<RestoreResult>()!;
        Assert.Equal(RestoreOutcome.Planned, result.Outcome);
        Assert.Equal(3, result.Plan!.Members.Count);
        Assert.Equal(4, fakes.Calls); // resolve + 3 preflights
    }

    [Fact]
    public async Task RunAsync_WrongConfirm_RejectedBeforeAnyActivity()
    {
        var fakes = new FakeRestoreActivities(null);
        var registry = fakes.Register(new OrchestrationRegistry().AddOrchestrator(new RestoreOrchestration()));
        await using var runner = new InProcessOrchestrationRunner(registry);
        var state = await runner.RunAsync(RestoreOrchestration.OrchestrationName, null, Request() with { Confirm = "other" });
        Assert.Equal(RestoreOutcome.Rejected, state.ReadOutputAs<RestoreResult>()!.Outcome);
        Assert.Equal(0, fakes.Calls);
    }

    [Theory]
    [InlineData(null, "RestoreSucceeded")]
    [InlineData("m2", "RestoreFailed")]
    public async Task RunAsync_Finished_LogsTheAlertEventOnce(string? failing, string expectedEvent)
    {
        // infra's alerts query these event names with a Cluster dimension; replay must not log them again.
        using var events = new CapturingLoggerFactory();
        var fakes = new FakeRestoreActivities(failing);
        var registry = fakes.Register(new OrchestrationRegistry().AddOrchestrator(new RestoreOrchestration(events)));
        await using var runner = new InProcessOrchestrationRunner(registry);

        await runner.RunAsync(RestoreOrchestration.OrchestrationName, null, Request());

        var logged = Assert.Single(events.Entries, e => e.EventName is "RestoreSucceeded" or "RestoreFailed");
        Assert.Equal(expectedEvent, logged.EventName);
        Assert.Contains("prod", logged.Message, StringComparison.Ordinal);
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(string? EventName, string Message)> _entries = new();

        public IReadOnlyList<(string? EventName, string Message)> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => new Capturing(_entries);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }

        private sealed class Capturing(System.Collections.Concurrent.ConcurrentQueue<(string? EventName, string Message)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((eventId.Name, formatter(state, exception)));
        }
    }

    private static RestoreRequest Request() => new() { Cluster = "prod", Backup = "latest", Members = s_members, Confirm = "prod", Reason = "drill" };

    /// <summary>Fake activities with the real names, answering as healthy agents would; one member can fail its restore.</summary>
    private sealed class FakeRestoreActivities(string? failingMember)
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public OrchestrationRegistry Register(OrchestrationRegistry registry) => registry
            .AddActivity(new Fake<ResolveBackupInput, ResolveBackupOutput>(this, ResolveBackupActivity.ActivityName, _ => new ResolveBackupOutput(
                new RestoreBackupInfo
                {
                    BackupId = "20261121T101500000Z-r000000000042",
                    ArtifactName = "prod/a.snap.enc",
                    Created = DateTimeOffset.UnixEpoch,
                    SnapshotSha256 = new string('a', 64),
                    SnapshotSize = 1 << 20,
                    Revision = 42,
                    TotalKey = 12,
                    Kek = "kek/1",
                },
                null,
                ["ok: manifest"])))
            .AddActivity(new Fake<PreflightInput, PreflightOutput>(this, PreflightMemberActivity.ActivityName, i => new PreflightOutput(
                i.Member.Name, new AgentPreflightSummary("3.4.23", "etcdctl", false, $"/var/lib/{i.Member.Name}", true, 1L << 34, true, true, "supervised"), [])))
            .AddActivity(Step(StopMemberActivity.ActivityName, (MemberStepInput i) => (i.Member.Name, "stop", "stopped", null)))
            .AddActivity(Step(RestoreMemberActivity.ActivityName, (RestoreMemberInput i) => (i.Member.Name, "restore", "restored", i.Member.Name == failingMember ? "injected" : null)))
            .AddActivity(Step(StartMemberActivity.ActivityName, (MemberStepInput i) => (i.Member.Name, "start", "started", null)))
            .AddActivity(Step(RollbackMemberActivity.ActivityName, (MemberStepInput i) => (i.Member.Name, "rollback", "rolledBack", null)))
            .AddActivity(new Fake<VerifyInput, RestoreVerification>(this, VerifyClusterActivity.ActivityName, i => new RestoreVerification
            {
                Succeeded = true,
                MembersUp = 3,
                Leaders = 1,
                Revision = i.ExpectedRevision,
                ExpectedRevision = i.ExpectedRevision,
                KeyCount = i.ExpectedKeyCount,
                ExpectedKeyCount = i.ExpectedKeyCount,
            }));

        private Fake<TIn, MemberStepOutput> Step<TIn>(string name, Func<TIn, (string Member, string Step, string State, string? Error)> answer) => new(this, name, i =>
        {
            var (member, step, state, error) = answer(i);
            return new MemberStepOutput
            {
                Name = member,
                Step = new RestoreMemberStep(step, error is null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), error),
                State = error is null ? state : "stopped",
                Error = error,
                SnapshotLiveKeys = step == "restore" ? 7 : null,
            };
        });

        private sealed class Fake<TIn, TOut>(FakeRestoreActivities owner, string name, Func<TIn, TOut> answer) : IActivity<TIn, TOut>
        {
            public string Name => name;

            public Task<TOut> RunAsync(TIn input, CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref owner._calls);
                return Task.FromResult(answer(input));
            }
        }
    }
}
