using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using EtcdServerless.Etcd.Client;
using Etcdserverpb;
using Google.Protobuf;

namespace EtcdServerless.Bench.Data;

/// <summary>What a bench loads into etcd before it measures (<c>--data</c>).</summary>
internal enum BenchDataSet
{
    /// <summary>Kubernetes-like objects under <c>/registry/...</c>, several revisions each; compresses about 3-5x.</summary>
    Kubernetes,

    /// <summary>Random 100 KB values: incompressible (encrypted payloads, images, certificates).</summary>
    Incompressible,
}

/// <summary>
/// Fills a real etcd until its database reaches a size. Kubernetes-like values start with the API server's
/// <c>k8s\0</c> protobuf magic, followed by a protobuf-shaped envelope (type meta, raw object, content type) whose
/// object carries the names, labels, annotations, managed fields, image references, IPs and timestamps real
/// objects repeat, a unique uid and resource version, and now and then an opaque random payload (secret data,
/// certificates); every key is written several times, so the database holds many revisions as etcd's does between
/// compactions. Puts go in transactions of about 1 MB.
/// </summary>
internal static class BenchData
{
    private const int TxnBytes = 1_000_000;
    private const int RandomValueBytes = 100 * 1024;
    private const int Revisions = 3;

    // etcd's default --max-txn-ops.
    private const int MaxOpsPerTxn = 128;

    private static readonly string[] s_resources = ["pods", "configmaps", "secrets", "events", "deployments", "replicasets", "services/specs", "leases", "endpointslices"];
    private static readonly string[] s_images = ["registry.k8s.io/pause:3.9", "ghcr.io/acme/web:1.24.3", "docker.io/library/nginx:1.27", "quay.io/prometheus/node-exporter:v1.8.1", "mcr.microsoft.com/dotnet/aspnet:10.0"];

    public static BenchDataSet Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null or "k8s" or "kubernetes" => BenchDataSet.Kubernetes,
        "random" or "incompressible" => BenchDataSet.Incompressible,
        _ => throw new ArgumentException($"--data {text}: use k8s or random"),
    };

    public static string Name(BenchDataSet set) => set == BenchDataSet.Kubernetes ? "k8s" : "random";

    /// <summary>Writes until etcd reports a database of at least <paramref name="targetBytes"/>; returns its size.</summary>
    public static async Task<long> FillAsync(string endpoint, BenchDataSet set, long targetBytes, CancellationToken cancellationToken = default)
    {
        using var client = new EtcdClient(new EtcdClientOptions { Endpoint = new Uri(endpoint), CallTimeout = TimeSpan.FromMinutes(1) });
        var batch = 0;
        long dbSize = 0;
        while (dbSize < targetBytes)
        {
            // Four transactions at once, each on its own slice of keys; then check the size.
            await Parallel.ForEachAsync(Enumerable.Range(batch, 4), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (b, ct) =>
            {
                await client.TxnAsync(Transaction(set, b), ct).ConfigureAwait(false);
            }).ConfigureAwait(false);
            batch += 4;
            dbSize = (await client.StatusAsync(cancellationToken).ConfigureAwait(false)).DbSize;
        }

        return dbSize;
    }

    private static TxnRequest Transaction(BenchDataSet set, int batch)
    {
        var random = new Random(batch);
        var txn = new TxnRequest();
        var bytes = 0;
        for (var i = 0; bytes < TxnBytes && i < MaxOpsPerTxn; i++)
        {
            // Kubernetes: Revisions consecutive batches write the same keys with new content (new revisions).
            var (key, value) = set == BenchDataSet.Kubernetes
                ? KubernetesObject(random, batch / Revisions, i, batch)
                : ($"/registry/blobs/{batch:D7}-{i:D3}", RandomBytes(random, RandomValueBytes));
            if (bytes + value.Length > TxnBytes && bytes > 0)
            {
                break;
            }

            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value) } });
            bytes += value.Length + key.Length;
        }

        return txn;
    }

    private static (string Key, byte[] Value) KubernetesObject(Random random, int slot, int index, int batch)
    {
        // The key depends on (slot, index) only: the same keys come back in later batches with new content.
        var keyRandom = new Random((slot * 1000) + index);
        var resource = s_resources[keyRandom.Next(s_resources.Length)];
        var ns = $"team-{keyRandom.Next(60):D2}";
        var plural = resource.Split('/')[0];
        var name = $"{plural}-{keyRandom.Next(100_000):D5}-{keyRandom.Next(0x100000):x5}";
        var key = $"/registry/{resource}/{ns}/{name}";
        var kind = char.ToUpperInvariant(plural[0]) + plural[1..];

        var body = new StringBuilder(8192);
        var uid = new Guid((int)(keyRandom.Next() ^ slot), (short)index, 0x4000, 1, 2, 3, 4, 5, 6, 7, 8).ToString();
        var created = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(keyRandom.Next(20_000_000));
        var updated = created.AddSeconds(batch);
        body.Append("\n\u0004name\u0012").Append(name).Append("\u001a\tnamespace\u0012").Append(ns)
            .Append("\"\u0003uid\u0012").Append(uid)
            .Append("*\u000fresourceVersion\u0012").Append(1_000_000 + (batch * 100) + index)
            .Append("2\u0011creationTimestamp\u0012").Append(created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))
            .Append("Z\u0006labels\u0012{\"app.kubernetes.io/name\":\"").Append(name[..Math.Min(12, name.Length)])
            .Append("\",\"app.kubernetes.io/part-of\":\"").Append(ns).Append("\",\"pod-template-hash\":\"").Append(keyRandom.Next(0x1000000).ToString("x6", CultureInfo.InvariantCulture)).Append("\"}");
        body.Append("b\u000bannotations\u0012{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":\\\"v1\\\",\\\"kind\\\":\\\"")
            .Append(kind).Append("\\\",\\\"metadata\\\":{\\\"name\\\":\\\"").Append(name).Append("\\\",\\\"namespace\\\":\\\"").Append(ns).Append("\\\"}}\"}");
        var containers = 1 + keyRandom.Next(4);
        for (var c = 0; c < containers; c++)
        {
            body.Append("\u00a2\u0001\u0009container\u0012{\"name\":\"c").Append(c).Append("\",\"image\":\"").Append(s_images[keyRandom.Next(s_images.Length)])
                .Append("\",\"ports\":[{\"containerPort\":").Append(8080 + c).Append(",\"protocol\":\"TCP\"}],\"resources\":{\"limits\":{\"cpu\":\"")
                .Append(100 * (1 + keyRandom.Next(8))).Append("m\",\"memory\":\"").Append(64 << keyRandom.Next(5)).Append("Mi\"}},\"env\":[");
            var env = 3 + keyRandom.Next(12);
            for (var e = 0; e < env; e++)
            {
                body.Append("{\"name\":\"SETTING_").Append(e).Append("\",\"value\":\"").Append(keyRandom.Next(1000)).Append("\"},");
            }

            body.Append("],\"terminationMessagePath\":\"/dev/termination-log\",\"imagePullPolicy\":\"IfNotPresent\"}");
        }

        body.Append("\u00b2\u0001\rmanagedFields\u0012");
        foreach (var manager in (string[])["kube-controller-manager", "kubelet", "kubectl-client-side-apply"])
        {
            body.Append("{\"manager\":\"").Append(manager).Append("\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"")
                .Append(updated.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))
                .Append("\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app.kubernetes.io/name\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c0\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}}");
        }

        body.Append("\u00c2\u0001\u0006status\u0012{\"phase\":\"Running\",\"hostIP\":\"10.224.").Append(keyRandom.Next(256)).Append('.').Append(keyRandom.Next(256))
            .Append("\",\"podIP\":\"10.244.").Append(random.Next(256)).Append('.').Append(random.Next(256)).Append("\",\"startTime\":\"")
            .Append(updated.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append("\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}");

        var obj = Encoding.UTF8.GetBytes(body.ToString());
        // Secrets and certificates: opaque bytes, a sixth of objects.
        var opaque = resource == "secrets" || random.Next(6) == 0 ? RandomBytes(random, 256 + random.Next(3000)) : [];
        var typeMeta = Encoding.UTF8.GetBytes($"\n\u0002v1\u0012{(char)kind.Length}{kind}");
        var contentType = "\"\u0000*\u0000"u8.ToArray();
        var value = new byte[4 + 2 + typeMeta.Length + 5 + obj.Length + opaque.Length + contentType.Length];
        var span = value.AsSpan();
        "k8s\0"u8.CopyTo(span);
        span[4] = 0x0a;
        span[5] = (byte)typeMeta.Length;
        typeMeta.CopyTo(span[6..]);
        var at = 6 + typeMeta.Length;
        span[at] = 0x12;
        BinaryPrimitives.WriteInt32BigEndian(span[(at + 1)..], obj.Length + opaque.Length);
        obj.CopyTo(span[(at + 5)..]);
        opaque.CopyTo(span[(at + 5 + obj.Length)..]);
        contentType.CopyTo(span[(at + 5 + obj.Length + opaque.Length)..]);
        return (key, value);
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
