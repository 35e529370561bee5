using System.Globalization;
using System.Text;
using System.Text.Json;
using EtcdServerless.Cli.Output;
using EtcdServerless.Core.Browse;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Etcd.Inspection;
using EtcdServerless.Etcd.Keyspace;

namespace EtcdServerless.Cli.Commands;

// How the verbs print: the ls and get tables, the etcdctl-shaped JSON, and keys and values as readable text.
internal static partial class BackupBrowseCommands
{
    private static async Task WriteListTableAsync(TextWriter writer, LiveKeyspace keyspace, CancellationToken cancellationToken)
    {
        // Streamed rather than through TextTable (a large backup has millions of rows), in 64 KiB writes
        // because the console writer flushes every call.
        string[] headers = ["KEY", "CREATE REV", "MOD REV", "VERSION", "LEASE", "VALUE SIZE", "KIND"];
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var key in keyspace.Keys)
        {
            widths[0] = Math.Max(widths[0], KeyText(key.Key).Length);
            widths[6] = Math.Max(widths[6], Kind(key.Kubernetes).Length);
        }

        widths[1] = widths[2] = Math.Max(widths[1], Number(keyspace.Revision).Length);
        var output = new ChunkedWriter(writer);
        AppendRow(headers);
        foreach (var key in keyspace.Keys)
        {
            AppendRow([KeyText(key.Key), Number(key.CreateRevision), Number(key.ModRevision), Number(key.Version),
                key.Lease == 0 ? "-" : key.Lease.ToString("x", CultureInfo.InvariantCulture), Number(key.ValueSize), Kind(key.Kubernetes)]);
            await output.FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        }

        output.Buffer.Append(CultureInfo.InvariantCulture, $"{keyspace.Keys.Count} key(s) at revision {keyspace.Revision}").AppendLine();
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);

        void AppendRow(string[] cells)
        {
            var start = output.Buffer.Length;
            for (var i = 0; i < cells.Length; i++)
            {
                output.Buffer.Append(i == cells.Length - 1 ? cells[i] : cells[i].PadRight(widths[i] + 2));
            }

            var end = output.Buffer.Length;
            while (end > start && output.Buffer[end - 1] == ' ')
            {
                end--;
            }

            output.Buffer.Length = end;
            output.Buffer.AppendLine();
        }
    }

    private static async Task WriteListJsonAsync(TextWriter writer, BackupManifest manifest, LiveKeyspace keyspace, CancellationToken cancellationToken)
    {
        // One element at a time, so the output never exists whole in memory.
        var output = new ChunkedWriter(writer);
        output.Buffer.Append(CultureInfo.InvariantCulture,
            $"{{\"cluster\":{JsonSerializer.Serialize(manifest.Cluster)},\"backupId\":{JsonSerializer.Serialize(manifest.BackupId)},\"revision\":{keyspace.Revision},\"count\":{keyspace.Keys.Count},\"keys\":[").AppendLine();
        for (var i = 0; i < keyspace.Keys.Count; i++)
        {
            output.Buffer.Append(JsonSerializer.Serialize(ToJson(keyspace.Keys[i], null), CliJson.Compact)).Append(i + 1 < keyspace.Keys.Count ? "," : "").AppendLine();
            await output.FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        }

        output.Buffer.AppendLine("]}");
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteGetTableAsync(TextWriter writer, BackupManifest manifest, KeyValueAtRevision found, CancellationToken cancellationToken)
    {
        var key = found.Key;
        var lines = new List<(string, string)>
        {
            ("key", KeyText(key.Key)),
            ("backup", $"{manifest.Cluster}/{manifest.BackupId} (revision {Number(found.Revision)})"),
            ("create revision", Number(key.CreateRevision)),
            ("mod revision", Number(key.ModRevision)),
            ("version", Number(key.Version)),
            ("lease", key.Lease == 0 ? "-" : key.Lease.ToString("x", CultureInfo.InvariantCulture)),
            ("value size", Number(key.ValueSize)),
        };
        if (key.Kubernetes is { } type)
        {
            lines.Add(("kind", Kind(type)));
        }

        lines.Add(("value", TryText(found.Value) ?? $"({found.Value.Length} bytes, not text: use -o raw or -o json)"));
        foreach (var (name, value) in lines)
        {
            await writer.WriteLineAsync($"{name + ":",-17} {value}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    private static KeyJson ToJson(LiveKey key, byte[]? value) => new()
    {
        Key = KeyText(key.Key),
        KeyBase64 = TryText(key.Key) is null ? Convert.ToBase64String(key.Key) : null,
        CreateRevision = key.CreateRevision,
        ModRevision = key.ModRevision,
        Version = key.Version,
        Lease = key.Lease,
        ValueSize = key.ValueSize,
        ApiVersion = key.Kubernetes is { ApiVersion.Length: > 0 } t1 ? t1.ApiVersion : null,
        Kind = key.Kubernetes is { Kind.Length: > 0 } t2 ? t2.Kind : null,
        Encoding = key.Kubernetes?.Encoding,
        Value = value is null ? null : Convert.ToBase64String(value),
    };

    /// <summary>The key as text; bytes that are not UTF-8 or are control characters appear as <c>\xNN</c>.</summary>
    internal static string KeyText(byte[] key)
    {
        if (TryText(key) is { } text)
        {
            return text;
        }

        var builder = new StringBuilder(key.Length * 2);
        foreach (var b in key)
        {
            builder.Append(b is >= 0x20 and < 0x7F and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return builder.ToString();
    }

    private static string? TryText(byte[] bytes)
    {
        try
        {
            var text = s_strictUtf8.GetString(bytes);
            return text.Any(c => char.IsControl(c) && c is not '\n' and not '\t' and not '\r') ? null : text;
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static string Kind(KubernetesType? type) => type switch
    {
        null => "",
        { Kind.Length: 0, ApiVersion.Length: 0 } => $"({type.Encoding})",
        _ => $"{type.ApiVersion}/{type.Kind}",
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Collects output text and writes it in large pieces.</summary>
    private sealed class ChunkedWriter(TextWriter writer)
    {
        private const int ChunkChars = 1 << 16;

        public StringBuilder Buffer { get; } = new(ChunkChars + 1024);

        public Task FlushIfFullAsync(CancellationToken cancellationToken) =>
            Buffer.Length >= ChunkChars ? FlushAsync(cancellationToken) : Task.CompletedTask;

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            await writer.WriteAsync(Buffer, cancellationToken).ConfigureAwait(false);
            Buffer.Clear();
        }
    }

    /// <summary>One key in <c>-o json</c>: the fields of <c>etcdctl get -w json</c> plus size and Kubernetes type.</summary>
    private sealed record KeyJson
    {
        public required string Key { get; init; }

        /// <summary>Set when the key is not UTF-8 text (then <see cref="Key"/> is escaped).</summary>
        public string? KeyBase64 { get; init; }

        public long CreateRevision { get; init; }

        public long ModRevision { get; init; }

        public long Version { get; init; }

        public long Lease { get; init; }

        public int ValueSize { get; init; }

        public string? ApiVersion { get; init; }

        public string? Kind { get; init; }

        public string? Encoding { get; init; }

        public string? Value { get; init; }
    }
}
