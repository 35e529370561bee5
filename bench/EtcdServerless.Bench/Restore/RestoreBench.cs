using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using EtcdServerless.Agent;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Members;
using EtcdServerless.Core.Orchestration;
using EtcdServerless.Workflows.Composition;
using EtcdServerless.Workflows.Instances;
using Microsoft.Extensions.DependencyInjection;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace EtcdServerless.Bench.Restore;

/// <summary>
/// <c>bench restore [--mb N] [--runs R]</c>: restore time of a 3-member cluster from an N MB backup (default 256), ours
/// (agents + RestoreOrchestration: decrypt, stream, etcdctl restore, swap, start, verify) against the manual etcdctl
/// runbook (restore-runbook.sh) on the same snapshot, alternating R times in one run (medians, CPU beside wall).
/// </summary>
internal static class RestoreBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mb = Option(args, "--mb", 256);
        var runs = Option(args, "--runs", 1);
        using var temp = new TempDirectory("etcdsl-bench-restore");
        using var certs = TestCertificates.CreateIn(temp.Combine("certs"));
        var orchestrator = certs.Issue("orchestrator", "orchestrator", server: false, client: true);

        // Our side: three agents supervising a fresh cluster.
        var members = Enumerable.Range(1, 3).Select(i => (Name: $"m{i}", Client: Url("http"), Peer: Url("http"), Agent: Url("https"))).ToList();
        var initial = string.Join(",", members.Select(m => $"{m.Name}={m.Peer}"));
        var apps = new List<WebApplication>();
        foreach (var m in members)
        {
            apps.Add(AgentHost.Build(new AgentOptions
            {
                MemberName = m.Name,
                DataDir = temp.Combine(m.Name + ".etcd"),
                ListenUrl = m.Agent,
                Supervised = new SupervisedOptions { ClientUrl = m.Client, PeerUrl = m.Peer, InitialCluster = initial, InitialClusterToken = "bench", ExtraArguments = ["--quota-backend-bytes", "8589934592"] },
                Tls = new EtcdServerless.Agent.Configuration.AgentTlsOptions { CertFile = certs.Server.CertPath, KeyFile = certs.Server.KeyPath, ClientCaFile = certs.CaCertPath },
            }, logging: _ => { }));
        }

        try
        {
            await Task.WhenAll(apps.Select(a => AgentHost.StartAsync(a)));
            using (var probe = new EtcdHealthProbe())
            {
                foreach (var m in members)
                {
                    await probe.WaitHealthyAsync(m.Client, TimeSpan.FromSeconds(60));
                }
            }

            await FillAsync(members[0].Client, mb);
            var store = new LocalDirectoryBackupStore(temp.Combine("store"));
            var keys = new LocalKeyStore(temp.Combine("keys"));
            (await keys.InitializeAsync()).Dispose();
            var options = new EtcdBackupOptions();
            options.Clusters["bench"] = new ClusterOptions { Endpoints = [.. members.Select(m => m.Client)] };
            using var agents = new AgentClient(new AgentClientOptions { CertFile = orchestrator.CertPath, KeyFile = orchestrator.KeyPath, CaFile = certs.CaCertPath });
            await using var services = new ServiceCollection()
                .AddSingleton<IBackupStore>(store)
                .AddSingleton<IKeyStore>(keys)
                .AddSingleton(new RestoreServices(store, keys, options, agents))
                .AddEtcdBackup(options, new BackupPipelineOptions { TempDirectory = temp.Path })
                .AddInProcessWorkflows()
                .BuildServiceProvider();
            var gateway = services.GetRequiredService<WorkflowGateway>();
            var backup = OrchestrationJson.Deserialize<BackupResult>((await gateway.WaitForCompletionAsync((await gateway.StartBackupAsync("bench", BackupTrigger.OnDemand)).InstanceId)).SerializedOutput);
            if (backup?.Manifest is not { } manifest)
            {
                await Console.Error.WriteLineAsync($"backup failed: {backup?.Message}");
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"backup {manifest.BackupId}: snapshot {manifest.Snapshot.Size / 1048576.0:F0} MiB, artifact {manifest.Artifact.Size / 1048576.0:F0} MiB"));

            // Baseline's plaintext snapshot (the runbook starts from a file on disk: we give it that head start).
            var snapshot = temp.Combine("snapshot.db");
            await using (var file = File.Create(snapshot))
            {
                var artifact = await store.OpenReadAsync(manifest.Artifact.Name);
                await using var plain = await EtcdServerless.Core.Crypto.EnvelopeReadStream.OpenAsync(artifact, keys);
                await plain.CopyToAsync(file);
            }

            var baselines = new List<(TimeSpan Wall, TimeSpan Cpu)>();
            var ours = new List<(TimeSpan Wall, TimeSpan Cpu)>();
            for (var run = 1; run <= runs; run++)
            {
                // Alternate on the same snapshot: the runbook first, then ours, each with its CPU (ours: the agents, the
                // orchestrator and the restore tools they ran; the runbook: bash and its etcdctl; neither counts etcd itself).
                var cpu = CpuTime.Now();
                var baseline = await RunBaselineAsync(temp, snapshot, run);
                baselines.Add((baseline, CpuTime.Now() - cpu));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: runbook (etcdctl, parallel per member): {baseline.TotalSeconds,7:F2} s wall, {baselines[^1].Cpu.TotalSeconds,6:F2} s CPU"));

                var request = new RestoreRequest
                {
                    Cluster = "bench",
                    Backup = manifest.BackupId,
                    Members = [.. members.Select(m => new RestoreTargetMember { Name = m.Name, PeerUrl = m.Peer, ClientUrl = m.Client, AgentUrl = m.Agent })],
                    Confirm = "bench",
                };
                await FlushDirtyPagesAsync();
                cpu = CpuTime.Now();
                var watch = Stopwatch.StartNew();
                var state = await gateway.WaitForCompletionAsync((await gateway.StartRestoreAsync(request)).InstanceId);
                var wall = watch.Elapsed;
                ours.Add((wall, CpuTime.Now() - cpu));
                var result = OrchestrationJson.Deserialize<RestoreResult>(state.SerializedOutput);
                if (result?.Outcome != RestoreOutcome.Succeeded)
                {
                    await Console.Error.WriteLineAsync($"restore failed: {result?.Outcome} {result?.Error} {state.FailureDetails?.ErrorMessage}");
                    return 1;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {run}: ours (agents, verified):                 {wall.TotalSeconds,7:F2} s wall, {ours[^1].Cpu.TotalSeconds,6:F2} s CPU, ratio {wall / baseline:F2}"));
                await PrintPhasesAsync(result, members.Select(m => m.Agent).ToList(), agents, state.CreatedAt);
            }

            var medianBaseline = Median(baselines.Select(b => b.Wall));
            var medianOurs = Median(ours.Select(o => o.Wall));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median of {runs}: runbook {medianBaseline.TotalSeconds:F2} s wall / {Median(baselines.Select(b => b.Cpu)).TotalSeconds:F2} s CPU, ours {medianOurs.TotalSeconds:F2} s wall / {Median(ours.Select(o => o.Cpu)).TotalSeconds:F2} s CPU, ratio ours/runbook {medianOurs / medianBaseline:F2} (target <= 1.00)"));
            return 0;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Writes back what the previous side left dirty (its 3 restored copies) before a timed run starts, so neither side's
    /// fsyncs wait behind the other's writeback (seen as restore phases of 4.8-12 s on the same data).
    /// </summary>
    private static Task FlushDirtyPagesAsync() => ExternalCommand.RunAsync("/bin/sync", [], TimeSpan.FromMinutes(5));

    private static string Url(string scheme) => $"{scheme}://127.0.0.1:{FreePorts.Next()}";

    private static async Task FillAsync(string clientUrl, int mb)
    {
        using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(clientUrl), CallTimeout = TimeSpan.FromSeconds(60) });
        var value = new byte[1 << 20];
        for (var i = 0; i < mb; i++)
        {
            RandomNumberGenerator.Fill(value);
            await client.PutAsync(System.Text.Encoding.UTF8.GetBytes($"bench/{i:D5}"), value);
        }
    }

    /// <summary>Three etcd processes restored by the shell runbook; returns the runbook's wall time.</summary>
    private static async Task<TimeSpan> RunBaselineAsync(TempDirectory temp, string snapshot, int run)
    {
        var folder = temp.Combine($"runbook-{run}");
        Directory.CreateDirectory(folder);
        var members = Enumerable.Range(1, 3).Select(i => (Name: $"b{i}", Dir: Path.Combine(folder, $"b{i}.etcd"), Client: Url("http"), Peer: Url("http"))).ToList();
        var initial = string.Join(",", members.Select(m => $"{m.Name}={m.Peer}"));
        var processes = members.Select(m => new EtcdProcess(new EtcdMemberConfig { Name = m.Name, DataDir = m.Dir, ClientUrl = m.Client, PeerUrl = m.Peer, InitialCluster = initial, InitialClusterToken = "baseline" })).ToList();
        var pidFile = Path.Combine(folder, "runbook.pids");
        try
        {
            await Task.WhenAll(processes.Select(p => p.StartAsync()));
            await Task.WhenAll(processes.Select(p => p.WaitHealthyAsync(TimeSpan.FromSeconds(60))));
            var script = Path.Combine(AppContext.BaseDirectory, "Restore", "restore-runbook.sh");
            var args = new List<string> { script, snapshot, "baseline-restored", initial, pidFile };
            args.AddRange(members.Select((m, i) => $"{m.Name}|{m.Dir}|{m.Client}|{m.Peer}|{processes[i].ProcessId}"));
            await FlushDirtyPagesAsync();
            var watch = Stopwatch.StartNew();
            var outcome = await ExternalCommand.RunAsync("/bin/bash", args, TimeSpan.FromMinutes(10));
            var elapsed = watch.Elapsed;
            if (!outcome.Succeeded)
            {
                throw new InvalidOperationException($"runbook failed: {outcome.LastLine()}");
            }

            return elapsed;
        }
        finally
        {
            foreach (var p in processes)
            {
                await p.DisposeAsync();
            }

            if (File.Exists(pidFile))
            {
                foreach (var line in await File.ReadAllLinesAsync(pidFile))
                {
                    await ExternalCommand.RunAsync("/bin/kill", ["-TERM", line.Trim()], TimeSpan.FromSeconds(5));
                }
            }

            // Three restored copies of the snapshot per run: free the disk before the next one (etcd needs a moment to exit).
            await Task.Delay(TimeSpan.FromSeconds(1));
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Where ours spent its time: the orchestration's phases, and each agent's own steps.</summary>
    private static async Task PrintPhasesAsync(RestoreResult result, List<string> agentUrls, AgentClient agents, DateTimeOffset created)
    {
        double Phase(string step) => result.Members.Max(m => m.Steps.Where(s => s.Name == step).Sum(s => s.DurationMs)) / 1000;
        var firstStop = result.Members.Min(m => m.Steps.First(s => s.Name == "stop").Started);
        var lastStart = result.Members.Max(m => m.Steps.Last(s => s.Name == "start").Finished);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  phases: plan {(firstStop - created).TotalSeconds:F2} s, stop {Phase("stop"):F2} s, distribute {Phase("upload"):F2} s, restore {Phase("restore"):F2} s, start {Phase("start"):F2} s, verify {(result.Finished - lastStart).TotalSeconds:F2} s"));
        var restoreId = result.Plan!.RestoreId;
        foreach (var url in agentUrls)
        {
            var status = await agents.GetAsync(url, restoreId);
            Console.WriteLine("  agent " + status.MemberName + ": " + string.Join("; ", status.Steps.Select(s =>
                string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.DurationMs / 1000:F2}s ({s.Detail})"))));
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>User + system CPU of this process and of the children it has waited for (/proc/self/stat).</summary>
    private static class CpuTime
    {
        public static TimeSpan Now()
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

            // After the command name: utime, stime, cutime, cstime are fields 14-17 of stat(5), here 11-14 (0-based).
            var ticks = fields.Skip(11).Take(4).Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
    }
}
