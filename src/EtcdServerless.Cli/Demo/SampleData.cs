using System.Globalization;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Cli.Demo;

/// <summary>A tiny Kubernetes-like registry: namespaces, pods, config maps, services, leases.</summary>
internal static class SampleData
{
    public static async Task<int> WriteAsync(EtcdClient client, CancellationToken cancellationToken)
    {
        var count = 0;
        string[] namespaces = ["default", "kube-system", "payments", "web", "monitoring"];
        foreach (var ns in namespaces)
        {
            await client.PutAsync($"/registry/namespaces/{ns}", $$$"""{"kind":"Namespace","metadata":{"name":"{{{ns}}}"}}""", cancellationToken: cancellationToken).ConfigureAwait(false);
            count++;
            for (var i = 0; i < 40; i++)
            {
                var pod = string.Create(CultureInfo.InvariantCulture, $"app-{i:D3}");
                await client.PutAsync($"/registry/pods/{ns}/{pod}", $$$"""{"kind":"Pod","metadata":{"name":"{{{pod}}}","namespace":"{{{ns}}}"},"spec":{"containers":[{"name":"app","image":"registry.example/app:1.{{{i}}}"}]}}""", cancellationToken: cancellationToken).ConfigureAwait(false);
                count++;
            }

            for (var i = 0; i < 10; i++)
            {
                await client.PutAsync($"/registry/configmaps/{ns}/config-{i}", $$$"""{"kind":"ConfigMap","data":{"setting":"{{{i}}}"}}""", cancellationToken: cancellationToken).ConfigureAwait(false);
                await client.PutAsync($"/registry/services/specs/{ns}/svc-{i}", $$$"""{"kind":"Service","spec":{"ports":[{"port":{{{8000 + i}}}}]}}""", cancellationToken: cancellationToken).ConfigureAwait(false);
                count += 2;
            }
        }

        return count;
    }

    /// <summary>The prefix of the keys written after the backup: a restore must make them disappear.</summary>
    public const string PostBackupPrefix = "/registry/pods/default/after-backup-";

    /// <summary>Writes keys the backup does not have (a deployment made after the last backup, lost by the restore).</summary>
    public static async Task<int> WritePostBackupAsync(EtcdClient client, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            var pod = string.Create(CultureInfo.InvariantCulture, $"after-backup-{i:D2}");
            await client.PutAsync(PostBackupPrefix + pod["after-backup-".Length..], $$$"""{"kind":"Pod","metadata":{"name":"{{{pod}}}","namespace":"default"}}""", cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return count;
    }
}
