using System.Globalization;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Cli.Demo;

/// <summary>A tiny Kubernetes-like registry: namespaces, pods, config maps, services, leases.</summary>
internal static class SampleData
{
    // Puts in flight at once: each put waits for the cluster to commit it (a disk flush on every member), so one at a
    // time the demo spent a second on 305 keys.
    private const int Concurrency = 16;

    public static async Task<int> WriteAsync(EtcdClient client, CancellationToken cancellationToken)
    {
        var entries = Registry().ToList();
        await PutAllAsync(client, entries, cancellationToken).ConfigureAwait(false);
        return entries.Count;
    }

    /// <summary>The registry's keys and values: 5 namespaces, each with 40 pods, 10 config maps and 10 services.</summary>
    internal static IEnumerable<(string Key, string Value)> Registry()
    {
        string[] namespaces = ["default", "kube-system", "payments", "web", "monitoring"];
        foreach (var ns in namespaces)
        {
            yield return ($"/registry/namespaces/{ns}", $$$"""{"kind":"Namespace","metadata":{"name":"{{{ns}}}"}}""");
            for (var i = 0; i < 40; i++)
            {
                var pod = string.Create(CultureInfo.InvariantCulture, $"app-{i:D3}");
                yield return ($"/registry/pods/{ns}/{pod}", $$$"""{"kind":"Pod","metadata":{"name":"{{{pod}}}","namespace":"{{{ns}}}"},"spec":{"containers":[{"name":"app","image":"registry.example/app:1.{{{i}}}"}]}}""");
            }

            for (var i = 0; i < 10; i++)
            {
                yield return ($"/registry/configmaps/{ns}/config-{i}", $$$"""{"kind":"ConfigMap","data":{"setting":"{{{i}}}"}}""");
                yield return ($"/registry/services/specs/{ns}/svc-{i}", $$$"""{"kind":"Service","spec":{"ports":[{"port":{{{8000 + i}}}}]}}""");
            }
        }
    }

    /// <summary>The prefix of the keys written after the backup: a restore must make them disappear.</summary>
    public const string PostBackupPrefix = "/registry/pods/default/after-backup-";

    /// <summary>Writes keys the backup does not have (a deployment made after the last backup, lost by the restore).</summary>
    public static async Task<int> WritePostBackupAsync(EtcdClient client, int count, CancellationToken cancellationToken)
    {
        var entries = Enumerable.Range(0, count).Select(i =>
        {
            var pod = string.Create(CultureInfo.InvariantCulture, $"after-backup-{i:D2}");
            return (PostBackupPrefix + pod["after-backup-".Length..], $$$"""{"kind":"Pod","metadata":{"name":"{{{pod}}}","namespace":"default"}}""");
        }).ToList();
        await PutAllAsync(client, entries, cancellationToken).ConfigureAwait(false);
        return count;
    }

    private static Task PutAllAsync(EtcdClient client, IReadOnlyList<(string Key, string Value)> entries, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(entries, new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken }, async (entry, ct) =>
            await client.PutAsync(entry.Key, entry.Value, cancellationToken: ct).ConfigureAwait(false));
}
