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
/// <c>bench restore [--mb N]</c>: restore time of a 3-member cluster from an N MB backup (default 256), ours (agents +
/// RestoreOrchestration: decrypt, stream, etcdctl restore, swap, start, verify) against the manual etcdctl runbook
/// (restore-runbook.sh) on the same snapshot, side by side in one run.
/// </summary>
internal static class RestoreBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mb = args.Length >= 2 && args[0] == "--mb" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
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

            var baseline = await RunBaselineAsync(temp, snapshot);

            var request = new RestoreRequest
            {
                Cluster = "bench",
                Backup = manifest.BackupId,
                Members = [.. members.Select(m => new RestoreTargetMember { Name = m.Name, PeerUrl = m.Peer, ClientUrl = m.Client, AgentUrl = m.Agent })],
                Confirm = "bench",
            };
            var watch = Stopwatch.StartNew();
            var state = await gateway.WaitForCompletionAsync((await gateway.StartRestoreAsync(request)).InstanceId);
            var ours = watch.Elapsed;
            var result = OrchestrationJson.Deserialize<RestoreResult>(state.SerializedOutput);
            if (result?.Outcome != RestoreOutcome.Succeeded)
            {
                await Console.Error.WriteLineAsync($"restore failed: {result?.Outcome} {result?.Error} {state.FailureDetails?.ErrorMessage}");
                return 1;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"runbook (etcdctl, parallel per member): {baseline.TotalSeconds,7:F2} s"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ours (agents, verified):                 {ours.TotalSeconds,7:F2} s"));
            foreach (var m in result.Members)
            {
                Console.WriteLine("  " + m.Name + ": " + string.Join(", ", m.Steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Name} {s.DurationMs / 1000:F2}s"))));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio ours/runbook: {ours / baseline:F2} (target <= 1.20)"));
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
    private static async Task<TimeSpan> RunBaselineAsync(TempDirectory temp, string snapshot)
    {
        var members = Enumerable.Range(1, 3).Select(i => (Name: $"b{i}", Dir: temp.Combine($"b{i}.etcd"), Client: Url("http"), Peer: Url("http"))).ToList();
        var initial = string.Join(",", members.Select(m => $"{m.Name}={m.Peer}"));
        var processes = members.Select(m => new EtcdProcess(new EtcdMemberConfig { Name = m.Name, DataDir = m.Dir, ClientUrl = m.Client, PeerUrl = m.Peer, InitialCluster = initial, InitialClusterToken = "baseline" })).ToList();
        var pidFile = temp.Combine("runbook.pids");
        try
        {
            await Task.WhenAll(processes.Select(p => p.StartAsync()));
            await Task.WhenAll(processes.Select(p => p.WaitHealthyAsync(TimeSpan.FromSeconds(60))));
            var script = Path.Combine(AppContext.BaseDirectory, "Restore", "restore-runbook.sh");
            var args = new List<string> { script, snapshot, "baseline-restored", initial, pidFile };
            args.AddRange(members.Select((m, i) => $"{m.Name}|{m.Dir}|{m.Client}|{m.Peer}|{processes[i].ProcessId}"));
            var watch = Stopwatch.StartNew();
            var run = await ExternalCommand.RunAsync("/bin/bash", args, TimeSpan.FromMinutes(10));
            var elapsed = watch.Elapsed;
            if (!run.Succeeded)
            {
                throw new InvalidOperationException($"runbook failed: {run.LastLine()}");
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
        }
    }
}
