using EtcdServerless.Core.Configuration;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Core.Tests.Configuration;

public sealed class EtcdBackupOptionsValidatorTests
{
    private static EtcdBackupOptions Valid() => new()
    {
        Store = new StoreOptions { Uri = "file:///var/lib/etcd-backup/store" },
        Keys = new KeysOptions { Uri = "file:///etc/etcd-backup/keys" },
        Clusters = new(StringComparer.Ordinal)
        {
            ["prod-east"] = new ClusterOptions
            {
                Endpoints = ["https://10.0.0.11:2379", "https://10.0.0.12:2379"],
                Schedule = "0 */15 * * * *",
                Members = [new MemberOptions { Name = "m1", PeerUrl = "https://10.0.0.11:2380", ClientUrl = "https://10.0.0.11:2379", AgentUrl = "https://10.0.0.11:7443" }],
            },
        },
    };

    private static string Single(EtcdBackupOptions options)
    {
        var errors = EtcdBackupOptionsValidator.Validate(options);
        return Assert.Single(errors).ToString();
    }

    [Fact]
    public void Validate_ArchitectureExample_HasNoErrors()
    {
        Assert.Empty(EtcdBackupOptionsValidator.Validate(Valid()));
    }

    [Fact]
    public void Validate_FiveFieldSchedule_NamesKeyAndFieldCount()
    {
        var options = Valid();
        options.Clusters["prod-east"].Schedule = "0 */15 * * *";

        var error = Single(options);

        Assert.StartsWith("Clusters:prod-east:Schedule: '0 */15 * * *' is not a valid NCRONTAB expression (6 fields", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DeltaIntervalUnderTenSeconds_NamesKey()
    {
        var options = Valid();
        options.Clusters["prod-east"].Deltas.Interval = TimeSpan.FromSeconds(2);

        Assert.StartsWith("Clusters:prod-east:Deltas:Interval: must be at least 00:00:10", Single(options), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://10.0.0.11:7443", true, "is not an https:// URL")]
    [InlineData("https://10.0.0.11:7443", false, "needs Restore:AgentTls:CertFile and KeyFile")]
    public void Validate_MaterializeAgentUrl_PlainHttpOrNoClientCertificate_NamesKey(string url, bool withTls, string expected)
    {
        using var dir = new TempDirectory("materialize-agent");
        var options = Valid();
        options.Clusters["prod-east"].Deltas.MaterializeAgentUrl = url;
        if (withTls)
        {
            // Files that exist: the validator checks them too, and only the URL is under test here.
            File.WriteAllText(dir.Combine("orchestrator.pem"), "");
            File.WriteAllText(dir.Combine("orchestrator-key.pem"), "");
            options.Restore.AgentTls = new AgentTlsOptions { CertFile = dir.Combine("orchestrator.pem"), KeyFile = dir.Combine("orchestrator-key.pem") };
        }

        var error = Single(options);

        Assert.StartsWith("Clusters:prod-east:Deltas:MaterializeAgentUrl: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void AgentUrlFor_MaterializeAgentUrlElseDrillAgentElseHere()
    {
        var cluster = new ClusterOptions { Drill = new ClusterDrillOptions { AgentUrl = "https://drill:7443" } };
        Assert.Equal("https://drill:7443", DeltaOptions.AgentUrlFor(cluster));
        cluster.Deltas.MaterializeAgentUrl = "https://materialize:7443";
        Assert.Equal("https://materialize:7443", DeltaOptions.AgentUrlFor(cluster));
        Assert.Null(DeltaOptions.AgentUrlFor(new ClusterOptions()));
        Assert.Null(DeltaOptions.AgentUrlFor(null));
    }

    [Fact]
    public void Validate_DeltaIntervalOfAMinute_Valid()
    {
        var options = Valid();
        options.Clusters["prod-east"].Deltas.Interval = TimeSpan.FromMinutes(1);

        Assert.Empty(EtcdBackupOptionsValidator.Validate(options));
    }

    [Fact]
    public void Validate_OutOfRangeScheduleField_NamesKey()
    {
        var options = Valid();
        options.Clusters["prod-east"].Schedule = "0 99 * * * *";

        Assert.StartsWith("Clusters:prod-east:Schedule: '0 99 * * * *'", Single(options), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("htp://x")]
    [InlineData("10.0.0.12:2379")]
    [InlineData("")]
    public void Validate_BadEndpoint_NamesIndexedKey(string endpoint)
    {
        var options = Valid();
        options.Clusters["prod-east"].Endpoints[1] = endpoint;

        Assert.StartsWith("Clusters:prod-east:Endpoints:1: ", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NoEndpoints_NamesKey()
    {
        var options = Valid();
        options.Clusters["prod-east"].Endpoints.Clear();

        Assert.StartsWith("Clusters:prod-east:Endpoints: ", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingTlsFile_NamesKeyAndPath()
    {
        var options = Valid();
        options.Clusters["prod-east"].Tls.CaFile = "/nonexistent/ca.pem";

        Assert.Equal("Clusters:prod-east:Tls:CaFile: file '/nonexistent/ca.pem' does not exist", Single(options));
    }

    [Fact]
    public void Validate_TlsAsKeyVaultSecretUris_HasNoErrors()
    {
        // On Azure the TLS settings name Key Vault secrets; the Azure host resolves them at start.
        var options = Valid();
        options.Clusters["prod-east"].Tls = new TlsOptions
        {
            CaFile = "https://kv-prod.vault.azure.net/secrets/prod-east-ca",
            CertFile = "https://kv-prod.vault.azure.net/secrets/prod-east-client-cert",
            KeyFile = "https://kv-prod.vault.azure.net/secrets/prod-east-client-key/0123456789abcdef0123456789abcdef",
        };
        options.Restore.AgentTls = new AgentTlsOptions { CaFile = "https://kv-prod.vault.azure.net/secrets/agents-ca" };

        Assert.Empty(EtcdBackupOptionsValidator.Validate(options));
    }

    [Fact]
    public void Complete_TlsSecretUri_IsNotTurnedIntoAPath()
    {
        var options = Valid();
        options.Clusters["prod-east"].Tls.CaFile = "https://kv-prod.vault.azure.net/secrets/prod-east-ca";
        options.Restore.AgentTls.CertFile = "https://kv-prod.vault.azure.net/secrets/restore-client-cert";
        options.Clusters["prod-east"].Tls.KeyFile = "relative/key.pem";

        EtcdBackupConfiguration.Complete(options, baseDirectory: "/etc/etcd-backup");

        Assert.Equal("https://kv-prod.vault.azure.net/secrets/prod-east-ca", options.Clusters["prod-east"].Tls.CaFile);
        Assert.Equal("https://kv-prod.vault.azure.net/secrets/restore-client-cert", options.Restore.AgentTls.CertFile);
        Assert.Equal("/etc/etcd-backup/relative/key.pem", options.Clusters["prod-east"].Tls.KeyFile);
    }

    [Fact]
    public void Validate_CertWithoutKey_NamesKeyFile()
    {
        using var dir = new TempDirectory();
        var cert = dir.Combine("client.pem");
        File.WriteAllText(cert, "x");
        var options = Valid();
        options.Clusters["prod-east"].Tls.CertFile = cert;

        Assert.StartsWith("Clusters:prod-east:Tls:KeyFile: ", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MemberFields_NamesEachField()
    {
        var options = Valid();
        options.Clusters["prod-east"].Members.Add(new MemberOptions { Name = "m1", PeerUrl = "x", ClientUrl = "https://10.0.0.12:2379", AgentUrl = "" });

        var errors = EtcdBackupOptionsValidator.Validate(options).Select(e => e.Key).ToList();

        Assert.Equal(["Clusters:prod-east:Members:1:Name", "Clusters:prod-east:Members:1:PeerUrl", "Clusters:prod-east:Members:1:AgentUrl"], errors);
    }

    [Theory]
    [InlineData("gs://bucket/prefix", "scheme 'gs' is not supported")]
    [InlineData("s3://Bad_Bucket/prefix", "names no valid bucket")]
    [InlineData("http://storage.example.com/container", "plain http")]
    [InlineData("https://acct.blob.core.windows.net", "names no container")]
    [InlineData("https://acct.blob.core.windows.net/c?sv=2024&sig=SECRET", "Store:SasToken")]
    [InlineData("relative/dir", "not an absolute URI")]
    public void Validate_UnsupportedStoreUri_NamesStoreUri(string uri, string expected)
    {
        var options = Valid();
        options.Store.Uri = uri;

        var error = Single(options);

        Assert.StartsWith("Store:Uri: ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/backups")]
    [InlineData("https://acct.blob.core.windows.net/backups")]
    [InlineData("/var/tmp/store")]
    public void Validate_SupportedStoreUri_HasNoErrors(string uri)
    {
        var options = Valid();
        options.Store.Uri = uri;

        Assert.Empty(EtcdBackupOptionsValidator.Validate(options));
    }

    [Theory]
    [InlineData("file:///var/lib/etcd-backup/store/keys")]
    [InlineData("file:///var/lib/etcd-backup/store")]
    [InlineData("file:///var/lib")]
    public void Validate_KeyDirOverlapsStoreDir_NamesKeysUri(string keys)
    {
        var options = Valid();
        options.Keys.Uri = keys;

        Assert.Contains("keys must never live beside the data", Single(options), StringComparison.Ordinal);
        Assert.StartsWith("Keys:Uri: ", Single(options), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://vault.vault.azure.net/keys/kek")]
    [InlineData("http://vault.vault.azure.net/secrets/kek")]
    [InlineData("https://vault.vault.azure.net/secrets")]
    public void Validate_BadKeyVaultUri_NamesKeysUri(string keys)
    {
        var options = Valid();
        options.Keys.Uri = keys;

        Assert.StartsWith("Keys:Uri: ", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyVaultSecretUri_HasNoErrors()
    {
        var options = Valid();
        options.Keys.Uri = "https://vault.vault.azure.net/secrets/etcd-backup-kek";

        Assert.Empty(EtcdBackupOptionsValidator.Validate(options));
    }

    [Theory]
    [InlineData("prod east")]
    [InlineData("-prod")]
    [InlineData("prod/east")]
    public void Validate_BadClusterName_NamesCluster(string name)
    {
        var options = Valid();
        options.Clusters[name] = options.Clusters["prod-east"];
        options.Clusters.Remove("prod-east");

        Assert.StartsWith($"Clusters:{name}: ", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RetentionKeepLastZero_NamesKey()
    {
        var options = Valid();
        options.Clusters["prod-east"].Retention.KeepLast = 0;
        options.Clusters["prod-east"].Retention.Daily = -1;

        var keys = EtcdBackupOptionsValidator.Validate(options).Select(e => e.Key).ToList();

        Assert.Equal(["Clusters:prod-east:Retention:KeepLast", "Clusters:prod-east:Retention:Daily"], keys);
    }

    [Fact]
    public void Validate_UserWithoutPassword_NamesPasswordKey()
    {
        var options = Valid();
        options.Clusters["prod-east"].Auth.Username = "root";

        Assert.StartsWith("Clusters:prod-east:Auth:Password: ", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AccountKeyNotBase64_NamesKeyWithoutEchoingIt()
    {
        var options = Valid();
        options.Store.Uri = "http://127.0.0.1:10000/devstoreaccount1/backups";
        options.Store.AccountKey = "not*base64*secret";

        var error = Single(options);

        Assert.StartsWith("Store:AccountKey: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadApiUrl_NamesKey()
    {
        var options = Valid();
        options.Api.Urls = "http://127.0.0.1:8080;tcp://0.0.0.0:9";

        Assert.StartsWith("Api:Urls: 'tcp://0.0.0.0:9'", Single(options), StringComparison.Ordinal);
    }

    [Fact]
    public void ThrowIfInvalid_SeveralErrors_OneMessageListsAll()
    {
        var options = Valid();
        options.Clusters["prod-east"].Schedule = "bad";
        options.Store.Uri = "ftp://x/y";

        var ex = Assert.Throws<InvalidOperationException>(() => EtcdBackupConfiguration.ThrowIfInvalid(options, "/etc/etcd-backup.json"));

        Assert.Contains("(/etc/etcd-backup.json)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Store:Uri: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Clusters:prod-east:Schedule: ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Complete_EmptyStoreAndKeys_UsesSeparateXdgDefaults()
    {
        var options = new EtcdBackupOptions();
        var env = new Dictionary<string, string?> { ["HOME"] = "/home/u", ["XDG_STATE_HOME"] = "", ["XDG_CONFIG_HOME"] = "/cfg" };

        EtcdBackupConfiguration.Complete(options, "/", name => env.GetValueOrDefault(name));

        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Equal("file:///home/u/.local/state/etcd-backup/store", options.Store.Uri);
            Assert.Equal("file:///cfg/etcd-backup/keys", options.Keys.Uri);
        }
        else
        {
            Assert.Equal("file:///var/lib/etcd-backup/store", options.Store.Uri);
            Assert.Equal("file:///etc/etcd-backup/keys", options.Keys.Uri);
        }

        Assert.Empty(EtcdBackupOptionsValidator.Validate(options));
    }

    [Fact]
    public void Complete_RelativeTlsPath_ResolvedAgainstBaseDirectory()
    {
        var options = Valid();
        options.Clusters["prod-east"].Tls.CaFile = "certs/ca.pem";

        EtcdBackupConfiguration.Complete(options, "/etc/etcd-backup");

        Assert.Equal("/etc/etcd-backup/certs/ca.pem", options.Clusters["prod-east"].Tls.CaFile);
    }
}
