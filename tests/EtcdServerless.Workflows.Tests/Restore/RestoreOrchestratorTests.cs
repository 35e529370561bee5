using EtcdServerless.Core.Orchestration;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Restore.Activities;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Restore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Workflows.Tests.Restore;

/// <summary>
/// <see cref="RestoreOrchestrator"/> on the real Durable Task engine (replays included) with fake steps behind the
/// real activity names (the real steps need agents and etcd; those paths run end to end in EtcdServerless.Agent.Tests).
/// </summary>
public sealed class RestoreOrchestratorTests
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
    public async Task RunAsync_OnTheDurableEngine_SucceedsOrRollsBack(string? failing, string outcome, string phase)
    {
        var fakes = new FakeRestoreActivities(failing);
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);

        var started = await engine.Gateway.StartRestoreAsync(Request());
        var (state, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId);

        Assert.Equal(outcome, result.Outcome.ToString());
        Assert.Equal(phase, result.Phase);
        Assert.Equal(RestoreOrchestrator.OrchestrationName, state.Name);
        if (failing is not null)
        {
            Assert.All(result.Members, m => Assert.Equal("rollback", m.Steps[^1].Name));
        }
    }

    [Fact]
    public async Task RunAsync_DryRun_CallsNoMemberStep()
    {
        var fakes = new FakeRestoreActivities(null);
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);

        var started = await engine.Gateway.StartRestoreAsync(Request() with { DryRun = true, Confirm = null });
        var (_, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId);

        Assert.Equal(RestoreOutcome.Planned, result.Outcome);
        Assert.Equal(3, result.Plan!.Members.Count);
        Assert.Equal(4, fakes.Calls); // resolve + 3 preflights
    }

    [Fact]
    public async Task RunAsync_MembersOnOneHost_ReceiveInTurnAndRestoreWhileTheNextReceives()
    {
        var fakes = new FakeRestoreActivities(null, _ => "host-a");
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);

        var started = await engine.Gateway.StartRestoreAsync(Request());
        var (_, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId);

        Assert.Equal(RestoreOutcome.Succeeded, result.Outcome);
        Assert.Equal(["m1", "m2", "m3"], result.Plan!.Waves.Select(w => Assert.Single(w)));
        Assert.Contains(result.Plan.Checks, c => c.Contains("in 3 waves (m1 | m2 | m3)", StringComparison.Ordinal));
        var uploads = fakes.Log.Where(l => l.StartsWith("upload", StringComparison.Ordinal)).ToList();
        Assert.Equal(["upload m1", "upload m2", "upload m3"], uploads);

        // Each member's restore is started once its own upload is done, before the uploads after it.
        var log = fakes.Log.ToList();
        Assert.True(log.IndexOf("restore m1") > log.IndexOf("upload m1"), string.Join("; ", log));
        Assert.True(log.IndexOf("restore m2") > log.IndexOf("upload m2"), string.Join("; ", log));
        Assert.All(result.Members, m => Assert.Equal(["stop", "upload", "restore", "start"], m.Steps.Select(s => s.Name)));
    }

    [Fact]
    public async Task RunAsync_MembersOnSeparateHosts_ReceiveInOneWave()
    {
        var fakes = new FakeRestoreActivities(null, name => "host-" + name);
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);

        var started = await engine.Gateway.StartRestoreAsync(Request());
        var (_, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId);

        Assert.Equal(RestoreOutcome.Succeeded, result.Outcome);
        Assert.Equal(["upload m1,m2,m3"], fakes.Log.Where(l => l.StartsWith("upload", StringComparison.Ordinal)));
        Assert.Contains(result.Plan!.Checks, c => c.Contains("reaches m1, m2, m3 at once", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_LaterWaveUploadFails_EarlierRestoreFinishesThenEveryMemberRollsBack()
    {
        var fakes = new FakeRestoreActivities(null, _ => "host-a", failingUpload: "m2");
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);

        var started = await engine.Gateway.StartRestoreAsync(Request());
        var (_, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId);

        Assert.Equal(RestoreOutcome.RolledBack, result.Outcome);
        Assert.Equal("upload", result.Phase);
        Assert.Contains("m2: injected upload fault", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("upload m3", fakes.Log);
        var m1 = result.Members.Single(m => m.Name == "m1");
        Assert.Equal(["stop", "upload", "restore", "rollback"], m1.Steps.Select(s => s.Name));
        Assert.All(result.Members, m => Assert.Equal("rollback", m.Steps[^1].Name));
    }

    [Fact]
    public async Task RunAsync_WrongConfirm_RejectedBeforeAnyActivity()
    {
        var fakes = new FakeRestoreActivities(null);
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);

        var started = await engine.Gateway.StartRestoreAsync(Request() with { Confirm = "other" });
        var (_, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId);

        Assert.Equal(RestoreOutcome.Rejected, result.Outcome);
        Assert.Equal(0, fakes.Calls);
    }

    [Fact]
    public async Task StartRestoreAsync_WhileOneRuns_JoinsTheSameRequestAndRefusesAnother()
    {
        var fakes = new FakeRestoreActivities(null);
        await using var engine = await WorkflowTestHost.StartAsync(fakes.Register);
        fakes.Hold();

        var first = await engine.Gateway.StartRestoreAsync(Request());
        await fakes.Entered.WaitAsync(TimeSpan.FromMinutes(1));
        var same = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => engine.Gateway.StartRestoreAsync(Request() with { Reason = "another operator" })));
        var dryRun = await engine.Gateway.StartRestoreAsync(Request() with { DryRun = true, Confirm = null });
        var otherBackup = await engine.Gateway.StartRestoreAsync(Request() with { Backup = "20261121T101500Z-000000000041" });
        fakes.Release();
        var (_, result) = await engine.CompleteAsync<RestoreResult>(first.InstanceId);
        var after = await engine.Gateway.StartRestoreAsync(Request() with { DryRun = true, Confirm = null });
        await engine.CompleteAsync<RestoreResult>(after.InstanceId);

        Assert.All(same, s => Assert.Equal((first.InstanceId, true, (string?)null), (s.InstanceId, s.Deduplicated, s.Conflict)));
        Assert.False(dryRun.Deduplicated); // a dry run is never joined to a real restore
        Assert.Contains(first.InstanceId, dryRun.Conflict, StringComparison.Ordinal);
        Assert.NotNull(otherBackup.Conflict);
        Assert.Equal(RestoreOutcome.Succeeded, result.Outcome);
        Assert.Null(after.Conflict);
        Assert.NotEqual(first.InstanceId, after.InstanceId);
    }

    [Theory]
    [InlineData(null, "RestoreSucceeded")]
    [InlineData("m2", "RestoreFailed")]
    public async Task RunAsync_Finished_LogsTheAlertEventOnce(string? failing, string expectedEvent)
    {
        // infra's alerts query these event names with a Cluster dimension; replays must not log them again.
        using var events = new CapturingLoggerFactory();
        var fakes = new FakeRestoreActivities(failing);
        await using var engine = await WorkflowTestHost.StartAsync(services =>
        {
            fakes.Register(services);
            services.AddSingleton<ILoggerFactory>(events);
        });

        var started = await engine.Gateway.StartRestoreAsync(Request());
        await engine.CompleteAsync<RestoreResult>(started.InstanceId);

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
    private sealed class FakeRestoreActivities(string? failingMember, Func<string, string?>? hostOf = null, string? failingUpload = null)
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();

        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource? _hold;
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>The member steps in the order they ran: <c>upload m1,m2</c>, <c>restore m1</c>, ...</summary>
        public IReadOnlyList<string> Log => [.. _log];

        /// <summary>Completes when the first activity runs.</summary>
        public Task Entered => _entered.Task;

        /// <summary>Makes every activity wait until <see cref="Release"/>.</summary>
        public void Hold() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _hold?.TrySetResult();

        public void Register(IServiceCollection services) => Add(services,
            new Fake<ResolveBackupInput, ResolveBackupOutput>(this, ResolveBackupActivity.ActivityName, _ => new ResolveBackupOutput(
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
                ["ok: manifest"])),
            new Fake<PreflightInput, PreflightOutput>(this, PreflightMemberActivity.ActivityName, i => new PreflightOutput(
                i.Member.Name, new AgentPreflightSummary("3.4.23", "etcdctl", false, $"/var/lib/{i.Member.Name}", true, 1L << 34, true, true, "supervised", hostOf?.Invoke(i.Member.Name)), [])),
            Step(StopMemberActivity.ActivityName, (MemberStepInput i) => (i.Member.Name, "stop", "stopped", null)),
            new Fake<DistributeSnapshotInput, DistributeSnapshotOutput>(this, DistributeSnapshotActivity.ActivityName, i =>
            {
                _log.Enqueue("upload " + string.Join(",", i.Members.Select(m => m.Name)));
                return new DistributeSnapshotOutput([.. i.Members.Select(m => new MemberStepOutput
                {
                    Name = m.Name,
                    Step = new RestoreMemberStep("upload", m.Name != failingUpload, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1), m.Name == failingUpload ? "injected upload fault" : null),
                    State = m.Name == failingUpload ? "stopped" : "received",
                    Error = m.Name == failingUpload ? "injected upload fault" : null,
                })]);
            }),
            Step(RestoreMemberActivity.ActivityName, (RestoreMemberInput i) =>
            {
                _log.Enqueue("restore " + i.Member.Name);
                return (i.Member.Name, "restore", "restored", i.SnapshotDelivered && i.Member.Name == failingMember ? "injected" : i.SnapshotDelivered ? null : "snapshot not delivered first");
            }),
            Step(StartMemberActivity.ActivityName, (MemberStepInput i) => (i.Member.Name, "start", "started", null)),
            Step(RollbackMemberActivity.ActivityName, (MemberStepInput i) => (i.Member.Name, "rollback", "rolledBack", null)),
            new Fake<VerifyInput, RestoreVerification>(this, VerifyClusterActivity.ActivityName, i => new RestoreVerification
            {
                Succeeded = true,
                MembersUp = 3,
                Leaders = 1,
                Revision = i.ExpectedRevision,
                ExpectedRevision = i.ExpectedRevision,
                KeyCount = i.ExpectedKeyCount,
                ExpectedKeyCount = i.ExpectedKeyCount,
            }));

        private static void Add(IServiceCollection services, params IFake[] fakes)
        {
            foreach (var fake in fakes)
            {
                fake.Register(services);
            }
        }

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

        private interface IFake
        {
            void Register(IServiceCollection services);
        }

        private sealed class Fake<TIn, TOut>(FakeRestoreActivities owner, string name, Func<TIn, TOut> answer) : IActivity<TIn, TOut>, IFake
        {
            public string Name => name;

            public void Register(IServiceCollection services) => services.AddKeyedSingleton<IActivity<TIn, TOut>>(name, this);

            public async Task<TOut> RunAsync(TIn input, CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref owner._calls);
                owner._entered.TrySetResult();
                if (owner._hold is { } hold)
                {
                    await hold.Task.WaitAsync(cancellationToken);
                }

                return answer(input);
            }
        }
    }
}
