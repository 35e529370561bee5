using System.Text.Json;
using k8s;
using k8s.Models;

namespace EtcdServerless.Infra.Tests.Deploy;

/// <summary>
/// Offline schema check of deploy/kubernetes/*.yaml: each document is read strictly into the Kubernetes API's own typed
/// models (KubernetesClient, generated from the API's OpenAPI spec), so an unknown or misspelt field, a wrong type or
/// an unknown kind fails; then the cross-references no schema sees (mounts name volumes, keys apart from backups).
/// </summary>
public sealed class KubernetesManifestSchemaTests
{
    private static string KubernetesFolder => Path.Combine(RepositoryFiles.Root, "deploy", "kubernetes");

    public static TheoryData<string> ManifestFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(KubernetesFolder, "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ManifestFiles))]
    public void LoadAllStrict_EveryManifest_ParsesIntoTypedObjects(string file)
    {
        var objects = Load(file);

        Assert.NotEmpty(objects);
        foreach (var o in objects)
        {
            var kubernetesObject = Assert.IsAssignableFrom<IKubernetesObject<V1ObjectMeta>>(o);
            Assert.False(string.IsNullOrEmpty(kubernetesObject.Metadata?.Name), $"{file}: a {kubernetesObject.Kind} has no metadata.name");
        }
    }

    [Fact]
    public void LoadAllStrict_MisspeltField_IsRejected()
    {
        // The check must bite: the same loader refuses a field the API does not have.
        const string Broken = """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: broken
            spec:
              selector:
                matchLabels: { app: broken }
              template:
                metadata:
                  labels: { app: broken }
                spec:
                  nodeSelectr:
                    node-role.kubernetes.io/control-plane: ""
                  containers:
                    - name: c
                      image: example/c:1
            """;

        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Broken, strict: true));
        Assert.IsType<V1DaemonSet>(Assert.Single(KubernetesYaml.LoadAllFromString(Broken.Replace("nodeSelectr", "nodeSelector", StringComparison.Ordinal), strict: true)));
    }

    [Fact]
    public void LoadAllStrict_WrongType_IsRejected()
    {
        const string Broken = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: broken
              labels: [not, a, map]
            """;

        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Broken, strict: true));
        Assert.IsType<V1Namespace>(Assert.Single(KubernetesYaml.LoadAllFromString(Broken.Replace("[not, a, map]", "{ a: b }", StringComparison.Ordinal), strict: true)));
    }

    [Theory]
    [MemberData(nameof(ManifestFiles))]
    public void PodTemplates_EveryMountAndImage_Resolves(string file)
    {
        foreach (var (name, pod) in PodSpecs(Load(file)))
        {
            var volumes = (pod.Volumes ?? []).Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var container in pod.Containers)
            {
                foreach (var mount in container.VolumeMounts ?? [])
                {
                    Assert.True(volumes.Contains(mount.Name), $"{file} {name}: container {container.Name} mounts undefined volume '{mount.Name}'");
                }

                // A pinned tag, never latest: the examples are what people copy.
                Assert.Matches(@"^[a-z0-9.\-/]+:[0-9][0-9A-Za-z.\-]*$", container.Image);
            }
        }
    }

    [Fact]
    public void AgentDaemonSet_ControlPlaneNodesOnly_WithHostDataDirAndMutualTls()
    {
        var daemonSet = Assert.Single(Load("agent-daemonset.yaml").OfType<V1DaemonSet>());
        var pod = daemonSet.Spec.Template.Spec;

        Assert.Equal("", pod.NodeSelector["node-role.kubernetes.io/control-plane"]);
        Assert.Contains(pod.Tolerations, t => t.Key == "node-role.kubernetes.io/control-plane" && t.Effect == "NoSchedule" && t.OperatorProperty == "Exists");
        Assert.True(pod.HostNetwork, "the orchestrator calls the agent on the node's address and the agent probes etcd on the node's loopback");
        Assert.False(pod.AutomountServiceAccountToken);

        var volumes = pod.Volumes.ToDictionary(v => v.Name, StringComparer.Ordinal);
        var container = Assert.Single(pod.Containers);
        var mounts = container.VolumeMounts.ToDictionary(m => m.MountPath, StringComparer.Ordinal);

        // Data dir: the hostPath is the data dir's parent, so the restored and kept dirs are siblings in one mount.
        var agent = AgentConfiguration();
        var dataDir = agent.GetProperty("DataDir").GetString()!;
        var parent = Path.GetDirectoryName(dataDir)!;
        Assert.True(mounts.TryGetValue(parent, out var dataMount), $"the data dir's parent {parent} is not mounted");
        Assert.Equal(parent, volumes[dataMount.Name].HostPath?.Path);
        Assert.NotEqual(true, dataMount.ReadOnlyProperty);

        // Static pod control: the kubelet's manifest folder and the park folder, both from the host.
        var staticPod = agent.GetProperty("StaticPod");
        Assert.Equal("StaticPod", agent.GetProperty("ControlMode").GetString());
        foreach (var folder in new[] { Path.GetDirectoryName(staticPod.GetProperty("ManifestPath").GetString())!, staticPod.GetProperty("ParkDirectory").GetString()! })
        {
            Assert.True(mounts.TryGetValue(folder, out var mount), $"{folder} is not mounted");
            Assert.Equal(folder, volumes[mount.Name].HostPath?.Path);
        }

        // Mutual TLS: every file the agent's Tls section names comes from the Secret mount, read-only.
        var tlsMount = container.VolumeMounts.Single(m => volumes[m.Name].Secret?.SecretName == "etcd-backup-agent-tls");
        Assert.True(tlsMount.ReadOnlyProperty);
        foreach (var key in new[] { "CertFile", "KeyFile", "ClientCaFile" })
        {
            Assert.StartsWith(tlsMount.MountPath + "/", agent.GetProperty("Tls").GetProperty(key).GetString(), StringComparison.Ordinal);
        }

        // The member name is the node's (kubeadm names etcd members after their nodes), not a constant.
        var memberName = Assert.Single(container.Env, e => e.Name == "Agent__MemberName");
        Assert.Equal("spec.nodeName", memberName.ValueFrom?.FieldRef?.FieldPath);
        Assert.False(agent.TryGetProperty("MemberName", out _));
    }

    [Fact]
    public void AgentDaemonSet_Hardening_ReadOnlyRootNoPrivilegeNoCapabilities()
    {
        var pod = Assert.Single(Load("agent-daemonset.yaml").OfType<V1DaemonSet>()).Spec.Template.Spec;
        var container = Assert.Single(pod.Containers);
        var security = container.SecurityContext;

        Assert.True(security.ReadOnlyRootFilesystem);
        Assert.False(security.AllowPrivilegeEscalation);
        Assert.NotEqual(true, security.Privileged);
        Assert.Equal(["ALL"], security.Capabilities.Drop);
        Assert.True(security.Capabilities.Add is null || security.Capabilities.Add.Count == 0, "the agent needs no capability (docs/agent.md, Privileges)");
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
        Assert.NotNull(container.Resources.Limits);

        // Writable paths: the host folders it must change, and /tmp. Nothing else.
        var writable = container.VolumeMounts.Where(m => m.ReadOnlyProperty != true).Select(m => m.MountPath).Order(StringComparer.Ordinal);
        Assert.Equal(["/etc/kubernetes/manifests", "/etc/kubernetes/manifests-parked", "/tmp", "/var/lib/etcd"], writable);
        Assert.DoesNotContain(pod.Volumes, v => v.HostPath?.Path is "/" or "/etc" or "/etc/kubernetes" or "/var/lib" or "/etc/kubernetes/pki");
    }

    [Fact]
    public void AgentNamespace_SeparateFromBackupNamespace()
    {
        var agentObjects = Load("agent-daemonset.yaml").Concat(Load("agent-configmap.yaml")).Cast<IKubernetesObject<V1ObjectMeta>>();
        Assert.All(agentObjects, o => Assert.Equal("etcd-backup-agent", o.Metadata.NamespaceProperty));

        // The backup namespace stays `restricted`; the agent's host access lives elsewhere.
        var backupNamespace = Assert.Single(Load("namespace.yaml").OfType<V1Namespace>());
        Assert.Equal("restricted", backupNamespace.Metadata.Labels["pod-security.kubernetes.io/enforce"]);
        var agentNamespace = Assert.Single(Load("agent-namespace.yaml").OfType<V1Namespace>());
        Assert.Equal("etcd-backup-agent", agentNamespace.Metadata.Name);
    }

    [Theory]
    [InlineData("cronjob.yaml")]
    [InlineData("deployment.yaml")]
    public void BackupWorkloads_KeysAndStore_OnDifferentVolumes(string file)
    {
        var config = BackupConfiguration();
        var storePath = new Uri(config.GetProperty("Store").GetProperty("Uri").GetString()!).LocalPath;
        var keysPath = new Uri(config.GetProperty("Keys").GetProperty("Uri").GetString()!).LocalPath;
        var (_, pod) = Assert.Single(PodSpecs(Load(file)));
        var container = Assert.Single(pod.Containers);
        var volumes = pod.Volumes.ToDictionary(v => v.Name, StringComparer.Ordinal);

        var storeVolume = volumes[MountFor(container, storePath).Name];
        var keysVolume = volumes[MountFor(container, keysPath).Name];

        // A stolen copy of the store volume must not carry the keys that open it.
        Assert.NotEqual(storeVolume.Name, keysVolume.Name);
        Assert.NotNull(storeVolume.PersistentVolumeClaim);
        Assert.NotNull(keysVolume.PersistentVolumeClaim);
        Assert.NotEqual(storeVolume.PersistentVolumeClaim.ClaimName, keysVolume.PersistentVolumeClaim.ClaimName);
        var claims = Load("pvc.yaml").OfType<V1PersistentVolumeClaim>().Select(c => c.Metadata.Name).ToList();
        Assert.Contains(storeVolume.PersistentVolumeClaim.ClaimName, claims);
        Assert.Contains(keysVolume.PersistentVolumeClaim.ClaimName, claims);
    }

    private static V1VolumeMount MountFor(V1Container container, string path) =>
        container.VolumeMounts
            .Where(m => path == m.MountPath || path.StartsWith(m.MountPath + "/", StringComparison.Ordinal))
            .MaxBy(m => m.MountPath.Length)
        ?? throw new InvalidOperationException($"{path} is on no volume of container {container.Name}");

    private static List<object> Load(string file) =>
        KubernetesYaml.LoadAllFromString(File.ReadAllText(Path.Combine(KubernetesFolder, file)), strict: true);

    private static IEnumerable<(string Name, V1PodSpec Pod)> PodSpecs(IEnumerable<object> objects)
    {
        foreach (var o in objects)
        {
            switch (o)
            {
                case V1DaemonSet d: yield return (d.Metadata.Name, d.Spec.Template.Spec); break;
                case V1Deployment d: yield return (d.Metadata.Name, d.Spec.Template.Spec); break;
                case V1CronJob c: yield return (c.Metadata.Name, c.Spec.JobTemplate.Spec.Template.Spec); break;
                case V1Job j: yield return (j.Metadata.Name, j.Spec.Template.Spec); break;
                default: break;
            }
        }
    }

    private static JsonElement AgentConfiguration() => ConfigMapJson("agent-configmap.yaml", "agent.json").GetProperty("Agent");

    private static JsonElement BackupConfiguration() => ConfigMapJson("configmap.yaml", "config.json");

    private static JsonElement ConfigMapJson(string file, string key)
    {
        var map = Assert.Single(Load(file).OfType<V1ConfigMap>());
        using var document = JsonDocument.Parse(map.Data[key]);
        return document.RootElement.Clone();
    }
}
