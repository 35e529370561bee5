using System.Buffers.Binary;
using System.Text;

namespace EtcdServerless.Bench.Seal;

/// <summary>
/// Writes a deterministic file shaped like an etcd (bbolt) snapshot of a Kubernetes control plane: 4 KiB
/// pages of <c>/registry/...</c> keys with JSON/protobuf-like object bodies (names, labels, uids, timestamps,
/// resource versions), a share of opaque random payload (secrets, certificates), and free pages of zeros.
/// It stands in for a real snapshot when none is given; its compressibility is in the range of real ones.
/// </summary>
internal static class SnapshotLikeFile
{
    private const int PageSize = 4096;

    private static readonly string[] s_resources =
        ["pods", "events", "configmaps", "secrets", "services/specs", "deployments", "replicasets", "leases", "endpointslices", "serviceaccounts"];

    public static async Task WriteAsync(string path, long size, CancellationToken cancellationToken = default)
    {
        var random = new Random(20261121);
        var page = new byte[PageSize];
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            long written = 0;
            long revision = 1_000_000;
            while (written < size)
            {
                Array.Clear(page);
                var kind = random.Next(100);
                if (kind >= 12)
                {
                    FillLeafPage(page, random, ref revision);
                }

                // else: a free page (zeros), as bbolt leaves after compaction and deletes.
                var take = (int)Math.Min(PageSize, size - written);
                await stream.WriteAsync(page.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
                written += take;
            }
        }
    }

    private static void FillLeafPage(byte[] page, Random random, ref long revision)
    {
        // Page header: id, flags, count, overflow (as bbolt lays it out).
        BinaryPrimitives.WriteUInt64LittleEndian(page, (ulong)random.NextInt64(1, 1 << 24));
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(8), 0x02);
        var offset = 16;
        var count = 0;
        while (offset < PageSize - 64)
        {
            var resource = s_resources[random.Next(s_resources.Length)];
            var ns = $"team-{random.Next(40):D2}";
            var name = $"{resource.Split('/')[0]}-{random.Next(5000):D4}-{random.Next(0x10000):x4}";
            // The mvcc key is the revision; the value carries the user key and the object.
            var body = resource == "secrets" && random.Next(3) == 0
                ? Convert.ToBase64String(RandomBytes(random, 200 + random.Next(1200)))
                : ObjectJson(random, resource, ns, name, revision);
            var record = Encoding.UTF8.GetBytes($"/registry/{resource}/{ns}/{name}\u0012{body}");
            var length = Math.Min(record.Length + 16, PageSize - offset);
            BinaryPrimitives.WriteInt64BigEndian(page.AsSpan(offset), revision++);
            BinaryPrimitives.WriteInt64BigEndian(page.AsSpan(offset + 8), random.Next(4));
            record.AsSpan(0, length - 16).CopyTo(page.AsSpan(offset + 16));
            offset += length;
            count++;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(10), (ushort)count);
    }

    private static string ObjectJson(Random random, string resource, string ns, string name, long revision)
    {
        var uid = Guid.CreateVersion7(DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000 + random.Next(10_000_000)));
        var created = DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000 + random.Next(10_000_000));
        var sb = new StringBuilder(512);
        sb.Append("{\"kind\":\"").Append(resource).Append("\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"").Append(name)
            .Append("\",\"namespace\":\"").Append(ns).Append("\",\"uid\":\"").Append(uid).Append("\",\"resourceVersion\":\"").Append(revision)
            .Append("\",\"creationTimestamp\":\"").Append(created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture))
            .Append("\",\"labels\":{\"app\":\"svc-").Append(random.Next(300)).Append("\",\"pod-template-hash\":\"").Append(random.Next(0x7fffffff).ToString("x8", System.Globalization.CultureInfo.InvariantCulture))
            .Append("\"},\"managedFields\":[{\"manager\":\"kube-controller-manager\",\"operation\":\"Update\",\"time\":\"")
            .Append(created.AddMinutes(random.Next(600)).ToString("O", System.Globalization.CultureInfo.InvariantCulture)).Append("\"}]},\"spec\":{");
        var fields = random.Next(2, 8);
        for (var i = 0; i < fields; i++)
        {
            sb.Append("\"field").Append(i).Append("\":\"value-").Append(random.Next(1000)).Append("\",");
        }

        sb.Append("\"nodeName\":\"node-").Append(random.Next(60)).Append("\"},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.")
            .Append(random.Next(256)).Append('.').Append(random.Next(256)).Append('.').Append(random.Next(256)).Append("\"}}");
        return sb.ToString();
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
