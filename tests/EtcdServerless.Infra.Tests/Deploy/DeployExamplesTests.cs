namespace EtcdServerless.Infra.Tests.Deploy;

/// <summary>The non-Azure examples keep their hardening (text assertions; no cluster or systemd here).</summary>
public sealed class DeployExamplesTests
{
    [Theory]
    [InlineData("cronjob.yaml")]
    [InlineData("deployment.yaml")]
    public void KubernetesWorkloads_PodSecurity_NonRootReadOnlyLimited(string file)
    {
        var text = RepositoryFiles.Read("deploy", "kubernetes", file);

        Assert.Contains("runAsNonRoot: true", text, StringComparison.Ordinal);
        Assert.Contains("readOnlyRootFilesystem: true", text, StringComparison.Ordinal);
        Assert.Contains("allowPrivilegeEscalation: false", text, StringComparison.Ordinal);
        Assert.Contains("drop: [\"ALL\"]", text, StringComparison.Ordinal);
        Assert.Contains("limits:", text, StringComparison.Ordinal);
        Assert.Contains("automountServiceAccountToken: false", text, StringComparison.Ordinal);
        Assert.Contains("secretName: etcd-client-tls", text, StringComparison.Ordinal);
        Assert.DoesNotContain("privileged: true", text, StringComparison.Ordinal);
    }

    [Fact]
    public void KubernetesCronJob_RunsOneBackupWithoutOverlap()
    {
        var text = RepositoryFiles.Read("deploy", "kubernetes", "cronjob.yaml");

        Assert.Contains("args: [\"backup\", \"run\"", text, StringComparison.Ordinal);
        Assert.Contains("concurrencyPolicy: Forbid", text, StringComparison.Ordinal);
    }

    [Fact]
    public void KubernetesDeployment_ApiKeyFromSecretNotConfigMap()
    {
        var deployment = RepositoryFiles.Read("deploy", "kubernetes", "deployment.yaml");
        var config = RepositoryFiles.Read("deploy", "kubernetes", "configmap.yaml");

        Assert.Contains("name: Api__ApiKey", deployment, StringComparison.Ordinal);
        Assert.Contains("secretKeyRef:", deployment, StringComparison.Ordinal);
        Assert.DoesNotContain("ApiKey", config, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("etcd-backup.service", "etcd-backup serve")]
    [InlineData("etcd-backup-agent.service", "etcd-backup-agent --config")]
    public void SystemdUnits_Hardened(string unit, string command)
    {
        var text = RepositoryFiles.Read("deploy", "systemd", unit);

        Assert.Contains(command, text, StringComparison.Ordinal);
        Assert.Contains("NoNewPrivileges=yes", text, StringComparison.Ordinal);
        Assert.Contains("ProtectSystem=strict", text, StringComparison.Ordinal);
        Assert.Contains("PrivateTmp=yes", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ServeUnit_RunsUnprivilegedWithKeyAsCredential()
    {
        var text = RepositoryFiles.Read("deploy", "systemd", "etcd-backup.service");

        Assert.Contains("User=etcd-backup", text, StringComparison.Ordinal);
        Assert.Contains("CapabilityBoundingSet=\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("LoadCredential=api-key:", text, StringComparison.Ordinal);
    }
}
