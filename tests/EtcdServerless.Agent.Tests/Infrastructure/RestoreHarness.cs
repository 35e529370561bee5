using Microsoft.Extensions.Logging;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Agent.Tests.Infrastructure;

/// <summary>
/// A real 3-member cluster under real agents, a local WORM store and key store, and the in-process runner with the
/// real backup and restore orchestrations. The orchestrator presents its own client certificate from the test CA.
/// </summary>
internal sealed class RestoreHarness : IAsyncDisposable
{
    public const string Cluster = "c1";

    private RestoreHarness(TempDirectory temp, TestCertificates certs, AgentSet agents, LocalDirectoryBackupStore store, LocalKeyStore keys, EtcdBackupOptions options)
    {
        Temp = temp;
        Certs = certs;
        Agents = agents;
        Store = store;
        Keys = keys;
        Options = options;
        OrchestratorCert = certs.Issue("orchestrator", "etcd-backup-orchestrator", server: false, client: true);
    }

    public TempDirectory Temp { get; }

    public TestCertificates Certs { get; }

    public AgentSet Agents { get; }

    public LocalDirectoryBackupStore Store { get; }

    public LocalKeyStore Keys { get; }

    public EtcdBackupOptions Options { get; }

    public IssuedCertificate OrchestratorCert { get; }

    /// <summary>Where every agent and orchestration log goes when the test passes one (e.g. to prove secrets never reach logs).</summary>
    public Microsoft.Extensions.Logging.ILoggerProvider? Logs { get; private init; }

    public static async Task<RestoreHarness> StartAsync(Action<int, Agent.Configuration.AgentOptions>? configure = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        RequiredTool.Find("etcd", "apt-get install etcd-server");
        RequiredTool.Find("etcdctl", "apt-get install etcd-client");
        var temp = new TempDirectory("etcdsl-restore");
        var certs = TestCertificates.CreateIn(temp.Combine("certs"));
        AgentSet? agents = null;
        try
        {
            agents = await AgentSet.StartAsync(temp.Path, certs, "m", configure: configure, logs: logs);
            var store = new LocalDirectoryBackupStore(temp.Combine("store"));
            var keys = new LocalKeyStore(temp.Combine("keys"));
            (await keys.InitializeAsync()).Dispose();
            var options = new EtcdBackupOptions();
            options.Clusters[Cluster] = new ClusterOptions
            {
                Endpoints = [.. agents.ClientUrls],
                Members = [.. agents.Members.Select(m => new MemberOptions { Name = m.Name, PeerUrl = m.PeerUrl, ClientUrl = m.ClientUrl, AgentUrl = m.AgentUrl })],
            };
            return new RestoreHarness(temp, certs, agents, store, keys, options) { Logs = logs };
        }
        catch
        {
            if (agents is not null)
            {
                await agents.DisposeAsync();
            }

            certs.Dispose();
            temp.Dispose();
            throw;
        }
    }

    public AgentClient CreateAgentClient(IssuedCertificate? clientCert = null) => new(new AgentClientOptions
    {
        CertFile = (clientCert ?? OrchestratorCert).CertPath,
        KeyFile = (clientCert ?? OrchestratorCert).KeyPath,
        CaFile = Certs.CaCertPath,
    });

    /// <summary>Runs a real backup through the backup orchestration and returns its manifest.</summary>
    public async Task<BackupManifest> BackupAsync()
    {
        await using var engine = await WorkflowTestHost.StartAsync(services => AddLogs(services)
            .AddSingleton<IBackupStore>(Store)
            .AddSingleton<IKeyStore>(Keys)
            .AddEtcdBackup(Options, new BackupPipelineOptions { TempDirectory = Temp.Path }));
        var started = await engine.Gateway.StartBackupAsync(Cluster, BackupTrigger.OnDemand);
        var (_, result) = await engine.CompleteAsync<BackupResult>(started.InstanceId);
        Assert.True(result is { Succeeded: true, Manifest: not null }, $"backup failed: {result?.Message}");
        return result!.Manifest!;
    }

    /// <summary>Runs the restore orchestration to its end.</summary>
    public async Task<(RestoreResult Result, OrchestrationMetadata State)> RestoreAsync(RestoreRequest request, AgentClient? agentClient = null)
    {
        using var ownClient = agentClient is null ? CreateAgentClient() : null;
        var services = new RestoreServices(Store, Keys, Options, agentClient ?? ownClient!) { VerifyTimeout = TimeSpan.FromSeconds(60) };
        await using var engine = await WorkflowTestHost.StartAsync(s => AddLogs(s)
            .AddSingleton<IBackupStore>(Store)
            .AddSingleton<IKeyStore>(Keys)
            .AddSingleton(services)
            .AddEtcdBackup(Options));
        var started = await engine.Gateway.StartRestoreAsync(request);
        Assert.Null(started.Conflict);
        var (state, result) = await engine.CompleteAsync<RestoreResult>(started.InstanceId, TimeSpan.FromMinutes(5));
        return (result, state);
    }

    public RestoreRequest Request(bool dryRun = false, string? confirm = Cluster, string backup = "latest", IReadOnlyList<RestoreTargetMember>? members = null) => new()
    {
        Cluster = Cluster,
        Backup = backup,
        Members = members ?? Agents.Members,
        DryRun = dryRun,
        Confirm = confirm,
        Reason = "test",
    };

    private IServiceCollection AddLogs(IServiceCollection services) =>
        Logs is null ? services : services.AddSingleton(Logs).AddLogging(b => b.SetMinimumLevel(LogLevel.Trace));

    public static EtcdClient Client(string clientUrl) => new(new EtcdClientOptions { Endpoint = new Uri(clientUrl) });

    public static async Task PutManyAsync(string clientUrl, string prefix, int count)
    {
        using var client = Client(clientUrl);
        for (var i = 0; i < count; i++)
        {
            await client.PutAsync($"{prefix}{i:D3}", $"value-{prefix}-{i}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Agents.DisposeAsync();
        OrchestratorCert.Certificate.Dispose();
        Certs.Dispose();
        Temp.Dispose();
    }
}
