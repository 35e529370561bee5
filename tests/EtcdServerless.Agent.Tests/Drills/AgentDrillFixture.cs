using EtcdServerless.Agent.Tests.Infrastructure;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Testing.Workflows;
using EtcdServerless.Workflows.Composition;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Agent.Tests.Drills;

/// <summary>
/// One real etcd member under its real agent (mutual TLS), a local WORM store and key store holding a real backup of
/// it made by the backup orchestration, and the orchestrator's client certificate from the agent's CA.
/// </summary>
public sealed class AgentDrillFixture : IAsyncLifetime
{
    public const string Cluster = "d1";

    public TempDirectory Temp { get; } = new("etcdsl-drill");

    internal TestCertificates Certs { get; private set; } = null!;

    internal AgentSet Agents { get; private set; } = null!;

    internal LocalDirectoryBackupStore Store { get; private set; } = null!;

    internal LocalKeyStore Keys { get; private set; } = null!;

    internal EtcdBackupOptions Options { get; private set; } = null!;

    internal BackupManifest Manifest { get; private set; } = null!;

    internal IssuedCertificate OrchestratorCert { get; private set; } = null!;

    public string AgentUrl => Agents.Members[0].AgentUrl;

    public string DataDir => Agents.Options[0].DataDir;

    public async Task InitializeAsync()
    {
        RequiredTool.Find("etcd", "apt-get install etcd-server");
        RequiredTool.Find("etcdctl", "apt-get install etcd-client");
        Certs = TestCertificates.CreateIn(Temp.Combine("certs"));
        OrchestratorCert = Certs.Issue("orchestrator", "etcd-backup-orchestrator", server: false, client: true);
        Agents = await AgentSet.StartAsync(Temp.Path, Certs, "d", count: 1);
        Store = new LocalDirectoryBackupStore(Temp.Combine("store"));
        Keys = new LocalKeyStore(Temp.Combine("keys"));
        (await Keys.InitializeAsync()).Dispose();
        Options = new EtcdBackupOptions();
        Options.Clusters[Cluster] = new ClusterOptions { Endpoints = [.. Agents.ClientUrls] };
        Options.Restore.AgentTls = new AgentTlsOptions { CertFile = OrchestratorCert.CertPath, KeyFile = OrchestratorCert.KeyPath, CaFile = Certs.CaCertPath };

        // History worth drilling: overwrites, a deletion, a compaction.
        using (var client = RestoreHarness.Client(Agents.ClientUrls[0]))
        {
            for (var i = 0; i < 30; i++)
            {
                await client.PutAsync($"/app/key-{i:D3}", $"value-{i}");
            }

            await client.PutAsync("/app/key-000", "rewritten");
            await client.DeleteAsync("/app/key-001");
        }

        Manifest = await BackupAsync(Store, Keys);
    }

    /// <summary>A real backup through the backup orchestration into <paramref name="store"/>.</summary>
    internal async Task<BackupManifest> BackupAsync(IBackupStore store, IKeyStore keys)
    {
        await using var engine = await WorkflowTestHost.StartAsync(services => services
            .AddSingleton(store)
            .AddSingleton(keys)
            .AddEtcdBackup(Options, new BackupPipelineOptions { TempDirectory = Temp.Path }));
        var started = await engine.Gateway.StartBackupAsync(Cluster, BackupTrigger.OnDemand);
        var (_, result) = await engine.CompleteAsync<BackupResult>(started.InstanceId);
        Assert.True(result is { Succeeded: true, Manifest: not null }, $"backup failed: {result?.Message}");
        return result!.Manifest!;
    }

    internal AgentClient CreateAgentClient(IssuedCertificate? clientCert = null) => new(new AgentClientOptions
    {
        CertFile = (clientCert ?? OrchestratorCert).CertPath,
        KeyFile = (clientCert ?? OrchestratorCert).KeyPath,
        CaFile = Certs.CaCertPath,
    });

    /// <summary>
    /// Every file and folder under the member's data dir by relative path, files with the SHA-256 of their bytes. Read
    /// by sha256sum: etcd holds an exclusive lock on its db, which .NET's own file opening would honour and fail on.
    /// </summary>
    public async Task<SortedDictionary<string, string>> HashDataDirAsync()
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(DataDir, "*", SearchOption.AllDirectories))
        {
            hashes[Path.GetRelativePath(DataDir, dir) + "/"] = "dir";
        }

        var files = Directory.GetFiles(DataDir, "*", SearchOption.AllDirectories);
        var start = new System.Diagnostics.ProcessStartInfo("sha256sum") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var file in files)
        {
            start.ArgumentList.Add(file);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var digest = line[..64];
            hashes[Path.GetRelativePath(DataDir, line[66..])] = digest;
        }

        Assert.Equal(files.Length + hashes.Count(h => h.Value == "dir"), hashes.Count);
        return hashes;
    }

    public async Task DisposeAsync()
    {
        await Agents.DisposeAsync();
        OrchestratorCert.Certificate.Dispose();
        Certs.Dispose();
        Temp.Dispose();
    }
}
