using EtcdServerless.Azure.KeyVault;
using EtcdServerless.Azure.Tests.Fakes;
using EtcdServerless.Core.Backup;
using EtcdServerless.Core.Keys;
using EtcdServerless.Testing.Etcd;
using EtcdServerless.Testing.Infrastructure;
using EtcdServerless.Testing.Workflows;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EtcdServerless.Functions.Tests;

/// <summary>
/// The Function App's composition with cluster TLS given as Key Vault secret URIs: resolved once at start through the
/// real SecretClient against <see cref="FakeKeyVaultServer"/> (the fake: Key Vault cannot run here), then a backup of
/// a real mutual-TLS etcd member through the Durable Task engine.
/// </summary>
public sealed class FunctionsCompositionTlsTests : IAsyncLifetime
{
    private const string Cluster = "kv";
    private readonly FakeTokenCredential _credential = new();
    private EtcdTestCluster _etcd = null!;
    private FakeKeyVaultServer _vault = null!;
    private TempDirectory _temp = null!;

    public async Task InitializeAsync()
    {
        _etcd = await EtcdTestCluster.StartAsync(new EtcdTestClusterOptions { Members = 1, Security = EtcdTestSecurity.MutualTls });
        await _etcd.EtcdCtlAsync("put", "/registry/tls", "from-key-vault");
        _vault = await FakeKeyVaultServer.StartAsync();
        _temp = new TempDirectory("fx-tls");
        await new LocalKeyStore(_temp.Combine("keys")).InitializeAsync();
        _vault.Seed("etcd-ca", File.ReadAllText(_etcd.CaCertPath!), "application/x-pem-file");
        _vault.Seed("etcd-cert", File.ReadAllText(_etcd.ClientCertPath!), "application/x-pem-file");
        _vault.Seed("etcd-key", File.ReadAllText(_etcd.ClientKeyPath!), "application/x-pem-file");
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        await _etcd.DisposeAsync();
        _temp.Dispose();
    }

    [Fact]
    public async Task Backup_ClusterTlsFromKeyVaultSecrets_CompletesAgainstMutualTlsEtcd()
    {
        // Arrange: the app settings name secrets, not files; the secrets are read at start, once.
        var services = new ServiceCollection();
        await services.AddEtcdBackupFunctionsAsync(Settings("etcd-ca", "etcd-cert", "etcd-key"), _ => _vault.CreateClient(_credential));
        var readsAtStart = _vault.AuthorizedRequests;
        await using var engine = await WorkflowTestHost.StartAsync(s =>
        {
            foreach (var descriptor in services)
            {
                s.Add(descriptor);
            }
        });

        // Act
        var started = await engine.Gateway.StartBackupAsync(Cluster, BackupTrigger.OnDemand);
        var (_, result) = await engine.CompleteAsync<BackupResult>(started.InstanceId);

        // Assert
        Assert.True(result.Succeeded, result.Message);
        Assert.NotNull(result.Manifest);
        Assert.Equal(3, readsAtStart);
        Assert.Equal(readsAtStart, _vault.AuthorizedRequests);

        // Kept in memory only: no PEM text anywhere under the app's store, keys or staging folders.
        Assert.DoesNotContain(
            Directory.EnumerateFiles(_temp.Path, "*", SearchOption.AllDirectories),
            f => File.ReadAllText(f).Contains("-----BEGIN", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Backup_SecretsHoldAnotherCa_FailsTheBackupNotTheTrust()
    {
        // The CA secret holds a CA that did not sign etcd's certificate: the in-memory roots must really be used.
        using var other = TestCertificates.Create();
        _vault.Seed("other-ca", File.ReadAllText(other.CaCertPath), "application/x-pem-file");
        var services = new ServiceCollection();
        await services.AddEtcdBackupFunctionsAsync(Settings("other-ca", "etcd-cert", "etcd-key"), _ => _vault.CreateClient(_credential));
        await using var engine = await WorkflowTestHost.StartAsync(s =>
        {
            foreach (var descriptor in services)
            {
                s.Add(descriptor);
            }
        });

        var started = await engine.Gateway.StartBackupAsync(Cluster, BackupTrigger.OnDemand);
        var state = await engine.Gateway.WaitForCompletionAsync(started.InstanceId).WaitAsync(TimeSpan.FromMinutes(3));

        var output = state.SerializedOutput is null ? null : Core.Orchestration.OrchestrationJson.Deserialize<BackupResult>(state.SerializedOutput);
        Assert.False(output?.Succeeded ?? false, "a backup trusting the wrong CA must not succeed");
    }

    [Fact]
    public async Task Start_MissingSecret_FailsNamingTheSetting()
    {
        var services = new ServiceCollection();

        var error = await Assert.ThrowsAsync<KeyNotFoundException>(() =>
            services.AddEtcdBackupFunctionsAsync(Settings("etcd-ca", "no-such-cert", "etcd-key"), _ => _vault.CreateClient(_credential)));

        Assert.Contains($"Clusters:{Cluster}:Tls:CertFile", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ResolvedTlsMaterial));
    }

    [Fact]
    public async Task Start_FileSettings_NeverCallsTheVault()
    {
        var services = new ServiceCollection();
        var settings = Settings("etcd-ca", "etcd-cert", "etcd-key");
        settings[$"Clusters:{Cluster}:Tls:CaFile"] = _etcd.CaCertPath;
        settings[$"Clusters:{Cluster}:Tls:CertFile"] = _etcd.ClientCertPath;
        settings[$"Clusters:{Cluster}:Tls:KeyFile"] = _etcd.ClientKeyPath;

        await services.AddEtcdBackupFunctionsAsync(settings, _ => _vault.CreateClient(_credential));

        Assert.Equal(0, _vault.Challenges + _vault.AuthorizedRequests);
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(ResolvedTlsMaterial));
    }

    private IConfigurationRoot Settings(string ca, string cert, string key) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        [$"Clusters:{Cluster}:Endpoints:0"] = _etcd.ClientUrls[0],
        [$"Clusters:{Cluster}:Tls:CaFile"] = Secret(ca),
        [$"Clusters:{Cluster}:Tls:CertFile"] = Secret(cert),
        [$"Clusters:{Cluster}:Tls:KeyFile"] = Secret(key),
        ["Store:Uri"] = new Uri(_temp.Combine("store")).AbsoluteUri,
        ["Keys:Uri"] = new Uri(_temp.Combine("keys")).AbsoluteUri,
        ["Api:ApiKey"] = "0123456789abcdef0123456789abcdef",
    }).Build();

    private string Secret(string name) => new Uri(_vault.VaultUri, $"secrets/{name}").AbsoluteUri;
}
