using EtcdServerless.Azure.KeyVault;
using EtcdServerless.Azure.Tests.Fakes;
using EtcdServerless.Core.Configuration;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Azure.Tests.KeyVault;

/// <summary>TLS settings as Key Vault secret URIs, through the real SecretClient against <see cref="FakeKeyVaultServer"/>.</summary>
[Trait("Category", "Azure")]
public sealed class KeyVaultTlsResolverTests : IAsyncLifetime
{
    private readonly FakeTokenCredential _credential = new();
    private readonly TestCertificates _pki = TestCertificates.Create();
    private FakeKeyVaultServer _vault = null!;

    public async Task InitializeAsync() => _vault = await FakeKeyVaultServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        _pki.Dispose();
    }

    [Fact]
    public async Task ResolveAsync_ClusterAndAgentSecrets_CertificatesInMemory()
    {
        // Arrange
        SeedPki("etcd");
        var agentClient = _pki.Issue("orchestrator", "orchestrator", server: false, client: true);
        _vault.Seed("agent-cert", File.ReadAllText(agentClient.CertPath), "application/x-pem-file");
        _vault.Seed("agent-key", File.ReadAllText(agentClient.KeyPath), "application/x-pem-file");
        var options = Options(Secret("etcd-ca"), Secret("etcd-cert"), Secret("etcd-key"));
        options.Restore.AgentTls = new AgentTlsOptions { CaFile = Secret("etcd-ca"), CertFile = Secret("agent-cert"), KeyFile = Secret("agent-key") };

        // Act
        using var resolved = await Resolver().ResolveAsync(options);

        // Assert
        var cluster = resolved.Clusters["prod"];
        Assert.Equal(_pki.CaCertificate.Thumbprint, Assert.Single(cluster.TrustedCa!).Thumbprint);
        Assert.Equal(_pki.Client.Certificate.Thumbprint, cluster.ClientCertificate!.Thumbprint);
        Assert.True(cluster.ClientCertificate.HasPrivateKey);
        Assert.Equal(agentClient.Certificate.Thumbprint, resolved.RestoreAgent!.ClientCertificate!.Thumbprint);
        Assert.True(resolved.RestoreAgent.ClientCertificate.HasPrivateKey);
        Assert.Equal(Secret("etcd-ca"), options.Clusters["prod"].Tls.CaFile);
    }

    [Fact]
    public async Task ResolveAsync_VersionedUri_ReadsThatVersion()
    {
        // Arrange: the CA secret was later overwritten with another CA.
        var first = _vault.Seed("etcd-ca", File.ReadAllText(_pki.CaCertPath), null);
        using var other = TestCertificates.Create();
        _vault.Seed("etcd-ca", File.ReadAllText(other.CaCertPath), null);

        // Act
        using var pinned = await Resolver().ResolveAsync(Options(Secret("etcd-ca") + "/" + first, null, null));
        using var current = await Resolver().ResolveAsync(Options(Secret("etcd-ca"), null, null));

        // Assert
        Assert.Equal(_pki.CaCertificate.Thumbprint, Assert.Single(pinned.Clusters["prod"].TrustedCa!).Thumbprint);
        Assert.Equal(other.CaCertificate.Thumbprint, Assert.Single(current.Clusters["prod"].TrustedCa!).Thumbprint);
        Assert.Null(current.Clusters["prod"].ClientCertificate);
    }

    [Fact]
    public async Task ResolveAsync_FilePaths_LeftAloneWithoutCallingTheVault()
    {
        var options = Options(_pki.CaCertPath, _pki.Client.CertPath, _pki.Client.KeyPath);

        using var resolved = await Resolver().ResolveAsync(options);

        Assert.Empty(resolved.Clusters);
        Assert.Null(resolved.RestoreAgent);
        Assert.False(KeyVaultTlsResolver.IsNeeded(options));
        Assert.Equal(0, _vault.Challenges + _vault.AuthorizedRequests);
    }

    [Fact]
    public async Task ResolveAsync_MissingSecret_ThrowsKeyNotFoundNamingTheSetting()
    {
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(() => Resolver().ResolveAsync(Options(Secret("nope"), null, null)));

        Assert.Contains("Clusters:prod:Tls:CaFile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_Forbidden_ThrowsUnauthorizedWithTheRoleToGrant()
    {
        SeedPki("etcd");
        _vault.ForbidAll = true;

        var ex = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => Resolver().ResolveAsync(Options(Secret("etcd-ca"), null, null)));

        Assert.Contains("Key Vault Secrets User", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_KeyNotMatchingCertificate_ThrowsInvalidDataWithoutQuotingTheKey()
    {
        // Arrange: the client certificate with the server's key.
        SeedPki("etcd");
        var wrongKey = File.ReadAllText(_pki.Server.KeyPath);
        _vault.Seed("wrong-key", wrongKey, null);

        // Act
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => Resolver().ResolveAsync(Options(null, Secret("etcd-cert"), Secret("wrong-key"))));

        // Assert
        Assert.Contains("Clusters:prod:Tls", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_CaSecretWithoutPem_ThrowsInvalidData()
    {
        _vault.Seed("not-pem", "hello", null);

        await Assert.ThrowsAsync<InvalidDataException>(() => Resolver().ResolveAsync(Options(Secret("not-pem"), null, null)));
    }

    [Fact]
    public async Task ResolveAsync_CertificateWithoutKey_ThrowsInvalidOperation()
    {
        SeedPki("etcd");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Resolver().ResolveAsync(Options(null, Secret("etcd-cert"), null)));
    }

    [Fact]
    public async Task ResolveAsync_SecretMixedWithFile_ThrowsInvalidOperation()
    {
        SeedPki("etcd");

        await Assert.ThrowsAsync<InvalidOperationException>(() => Resolver().ResolveAsync(Options(_pki.CaCertPath, Secret("etcd-cert"), Secret("etcd-key"))));
    }

    [Theory]
    [InlineData("https://vault.vault.azure.net/keys/etcd-ca")]
    [InlineData("https://vault.vault.azure.net/secrets/")]
    [InlineData("https://vault.vault.azure.net/secrets/bad_name")]
    [InlineData("https://vault.vault.azure.net/secrets/etcd-ca/not-a-version")]
    [InlineData("https://vault.vault.azure.net/secrets/etcd-ca?api-version=7.4")]
    public async Task ResolveAsync_HttpsButNotASecretUri_ThrowsFormat(string value)
    {
        var ex = await Assert.ThrowsAsync<FormatException>(() => Resolver().ResolveAsync(Options(value, null, null)));

        Assert.Contains("Clusters:prod:Tls:CaFile", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_VersionedSecretUri_SplitsVaultNameAndVersion()
    {
        var reference = KeyVaultSecretReference.Parse("k", "https://kv-prod.vault.azure.net/secrets/etcd-ca/0123456789abcdef0123456789ABCDEF");

        Assert.Equal(new Uri("https://kv-prod.vault.azure.net/"), reference.VaultUri);
        Assert.Equal("etcd-ca", reference.Name);
        Assert.Equal("0123456789abcdef0123456789ABCDEF", reference.Version);
    }

    [Fact]
    public async Task AgentClientOptionsFactory_ResolvedAgentTls_UsesCertificatesNotPaths()
    {
        // Arrange
        SeedPki("agent");
        var settings = new AgentTlsOptions { CaFile = Secret("agent-ca"), CertFile = Secret("agent-cert"), KeyFile = Secret("agent-key"), ServerThumbprints = ["ab12"], TimeoutSeconds = 42 };
        using var resolved = await Resolver().ResolveAsync(new EtcdBackupOptions { Restore = new RestoreSettings { AgentTls = settings } });

        // Act
        var fromVault = AgentClientOptionsFactory.Create(settings, resolved);
        var fromFiles = AgentClientOptionsFactory.Create(new AgentTlsOptions { CertFile = "/etc/c.pem", KeyFile = "/etc/k.pem" }, resolved: null);

        // Assert
        Assert.Null(fromVault.CertFile);
        Assert.Null(fromVault.CaFile);
        Assert.Equal(_pki.Client.Certificate.Thumbprint, fromVault.ClientCertificate!.Thumbprint);
        Assert.Single(fromVault.TrustedCa!);
        Assert.Equal(["ab12"], fromVault.ServerThumbprints);
        Assert.Equal(42, fromVault.TimeoutSeconds);
        Assert.Equal("/etc/c.pem", fromFiles.CertFile);
        Assert.Null(fromFiles.ClientCertificate);
    }

    private KeyVaultTlsResolver Resolver() => new(vault =>
    {
        Assert.Equal(_vault.VaultUri, vault);
        return _vault.CreateClient(_credential);
    });

    private string Secret(string name) => $"{_vault.VaultUri}secrets/{name}";

    private void SeedPki(string prefix)
    {
        _vault.Seed($"{prefix}-ca", File.ReadAllText(_pki.CaCertPath), "application/x-pem-file");
        _vault.Seed($"{prefix}-cert", File.ReadAllText(_pki.Client.CertPath), "application/x-pem-file");
        _vault.Seed($"{prefix}-key", File.ReadAllText(_pki.Client.KeyPath), "application/x-pem-file");
    }

    private static EtcdBackupOptions Options(string? ca, string? cert, string? key) => new()
    {
        Clusters = new(StringComparer.Ordinal)
        {
            ["prod"] = new ClusterOptions
            {
                Endpoints = ["https://127.0.0.1:2379"],
                Tls = new TlsOptions { CaFile = ca, CertFile = cert, KeyFile = key },
            },
        },
    };
}
