using System.Buffers.Binary;
using System.Security.Cryptography;
using EtcdServerless.Etcd.Bbolt;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Etcd.Keyspace;

/// <summary>
/// Reads the user keys of an etcd snapshot without restoring it: one ordered walk of the bbolt file (which also
/// checks its structure, as <c>snapshot status</c> does) over the <c>key</c> bucket, whose entries are every
/// retained revision in revision order. The last entry seen for a user key is its state at the snapshot's
/// revision: a put makes it live with that entry's metadata, a tombstone deletes it. Compaction only removes
/// older revisions, so the rule holds on compacted history too.
/// </summary>
/// <remarks>
/// Memory: pages are streamed through <see cref="BboltFile"/>'s bounded window; the only index is one entry
/// per distinct user key under the prefix that is live at the point of the walk (key bytes + about 100 bytes),
/// so it is bounded by the number of keys under the prefix, never by the snapshot size or its history.
/// Values are never retained, except the one value <see cref="ReadKey"/> returns.
/// </remarks>
internal static class KeyspaceReader
{
    /// <summary>The live keys under <paramref name="prefix"/>, sorted by key bytes.</summary>
    /// <param name="handle">The snapshot file.</param>
    /// <param name="dataLength">Bytes of the database (the sha256 trailer excluded).</param>
    /// <param name="prefix">Only keys starting with these bytes (empty: all).</param>
    /// <param name="hashValues">Compute <see cref="LiveKey.ValueHash"/> (for diffs).</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    public static LiveKeyspace ReadLiveKeys(SafeFileHandle handle, long dataLength, ReadOnlySpan<byte> prefix, bool hashValues = false, CancellationToken cancellationToken = default)
    {
        var collector = new LiveKeyCollector(prefix.ToArray(), hashValues);
        var revision = Walk(handle, dataLength, collector, cancellationToken);
        return new LiveKeyspace(revision, collector.ToSortedList());
    }

    /// <summary>
    /// One key's metadata and value at the snapshot's revision; null when the key does not exist then (never
    /// written, deleted, or compacted away).
    /// </summary>
    public static KeyValueAtRevision? ReadKey(SafeFileHandle handle, long dataLength, ReadOnlySpan<byte> key, CancellationToken cancellationToken = default)
    {
        var finder = new SingleKeyFinder(key.ToArray());
        var revision = Walk(handle, dataLength, finder, cancellationToken);
        return finder.Found is { } found ? new KeyValueAtRevision(found, finder.Value!, revision) : null;
    }

    private static long Walk(SafeFileHandle handle, long dataLength, IRevisionSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handle);
        using var file = BboltFile.Open(handle, dataLength);
        var visitor = new KeyBucketVisitor(sink);
        BboltWalker.Walk(file, ref visitor, cancellationToken);
        return visitor.Revision;
    }

    /// <summary>Receives every revision of the <c>key</c> bucket in revision order.</summary>
    private interface IRevisionSink
    {
        /// <summary>True when the sink cares about this user key (the value is decoded only then).</summary>
        bool Wants(ReadOnlySpan<byte> userKey);

        void OnPut(in KeyValueRecord record);

        void OnDelete(ReadOnlySpan<byte> userKey);
    }

    private struct KeyBucketVisitor(IRevisionSink sink) : IBboltVisitor
    {
        private readonly KeyValueDecoder _decoder = new();
        private bool _inKeyBucket;

        public long Revision { get; private set; }

        public void OnBucket(ReadOnlySpan<byte> name) => _inKeyBucket = name.SequenceEqual("key"u8);

        public void OnEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isBucket)
        {
            if (!_inKeyBucket)
            {
                return;
            }

            if (isBucket)
            {
                throw new InvalidDataException("bucket 'key': holds a nested bucket, which etcd never writes");
            }

            var revision = RevisionKey.Parse(key);
            Revision = revision.Main;
            var record = _decoder.Decode(value, revision);

            // etcd refuses empty keys; the only entry without one is the marker `snapshot restore --bump-revision`
            // writes to carry the revision, which no client ever reads.
            if (record.Key.IsEmpty || !sink.Wants(record.Key))
            {
                return;
            }

            if (revision.Tombstone)
            {
                sink.OnDelete(record.Key);
            }
            else
            {
                sink.OnPut(record);
            }
        }
    }

    private sealed class LiveKeyCollector(byte[] prefix, bool hashValues) : IRevisionSink
    {
        private readonly Dictionary<byte[], LiveKey> _live = new(ByteKeyComparer.Instance);
        private readonly Dictionary<KubernetesType, KubernetesType> _types = [];

        public bool Wants(ReadOnlySpan<byte> userKey) => userKey.StartsWith(prefix);

        public void OnPut(in KeyValueRecord record)
        {
            var lookup = _live.GetAlternateLookup<ReadOnlySpan<byte>>();
            var type = KubernetesType.TryRead(record.Value);
            if (type is not null)
            {
                // Thousands of objects share a handful of types: keep one instance of each.
                if (!_types.TryGetValue(type, out var shared))
                {
                    _types[type] = shared = type;
                }

                type = shared;
            }

            var keyBytes = lookup.TryGetValue(record.Key, out var actualKey, out _) ? actualKey : record.Key.ToArray();
            _live[keyBytes] = new LiveKey
            {
                Key = keyBytes,
                CreateRevision = record.CreateRevision,
                ModRevision = record.ModRevision,
                Version = record.Version,
                Lease = record.Lease,
                ValueSize = record.Value.Length,
                Kubernetes = type,
                ValueHash = hashValues ? Hash(record.Value) : default,
            };
        }

        public void OnDelete(ReadOnlySpan<byte> userKey) => _live.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(userKey);

        public List<LiveKey> ToSortedList()
        {
            var keys = _live.Values.ToList();
            keys.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
            return keys;
        }

        private static UInt128 Hash(ReadOnlySpan<byte> value)
        {
            Span<byte> digest = stackalloc byte[32];
            SHA256.HashData(value, digest);
            return BinaryPrimitives.ReadUInt128LittleEndian(digest);
        }
    }

    private sealed class SingleKeyFinder(byte[] key) : IRevisionSink
    {
        public LiveKey? Found { get; private set; }

        public byte[]? Value { get; private set; }

        public bool Wants(ReadOnlySpan<byte> userKey) => userKey.SequenceEqual(key);

        public void OnPut(in KeyValueRecord record)
        {
            Value = record.Value.ToArray();
            Found = new LiveKey
            {
                Key = key,
                CreateRevision = record.CreateRevision,
                ModRevision = record.ModRevision,
                Version = record.Version,
                Lease = record.Lease,
                ValueSize = record.Value.Length,
                Kubernetes = KubernetesType.TryRead(record.Value),
            };
        }

        public void OnDelete(ReadOnlySpan<byte> userKey)
        {
            Found = null;
            Value = null;
        }
    }
}
