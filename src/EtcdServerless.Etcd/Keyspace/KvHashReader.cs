using System.Buffers.Binary;
using EtcdServerless.Etcd.Bbolt;
using EtcdServerless.Etcd.Inspection;
using Microsoft.Win32.SafeHandles;

namespace EtcdServerless.Etcd.Keyspace;

/// <summary>What <see cref="KvHashReader"/> computed from a snapshot.</summary>
/// <param name="Hash">The value <c>Maintenance/HashKV</c> answers at <paramref name="Revision"/> on a member restored from the snapshot.</param>
/// <param name="Revision">Main revision of the last entry of the <c>key</c> bucket.</param>
/// <param name="CompactRevision">The compaction revision the restored member starts from (the larger of scheduled and finished).</param>
internal sealed record KvHash(uint Hash, long Revision, long CompactRevision);

/// <summary>
/// Predicts <c>HashKV</c> at the snapshot's revision from the snapshot file, as etcd's mvcc store computes it
/// (3.4 to 3.6 alike): CRC-32C (Castagnoli) over the bucket name <c>key</c>, then every revision key and value of that
/// bucket up to the revision, where a revision at or below the compaction point counts only when it is in the keep
/// set of the revision, i.e. it is the live revision of its key (so the hash does not depend on how far a compaction
/// got). <c>snapshot restore</c> rewrites membership and the consistent index, never the <c>key</c> bucket.
/// </summary>
/// <remarks>Two walks of the file (the compaction point lives in the <c>meta</c> bucket, after <c>key</c>).</remarks>
internal static class KvHashReader
{
    /// <summary>Computes the hash; <paramref name="liveKeys"/> are the snapshot's live keys (from <see cref="KeyspaceReader"/>).</summary>
    public static KvHash Compute(SafeFileHandle handle, long dataLength, IReadOnlyList<LiveKey> liveKeys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(liveKeys);
        long compact;
        using (var file = BboltFile.Open(handle, dataLength))
        {
            var meta = new MetaVisitor();
            BboltWalker.Walk(file, ref meta, cancellationToken);
            compact = Math.Max(meta.Scheduled, meta.Finished);
        }

        var live = new Dictionary<byte[], long>(liveKeys.Count, ByteKeyComparer.Instance);
        foreach (var key in liveKeys)
        {
            live[key.Key] = key.ModRevision;
        }

        using (var file = BboltFile.Open(handle, dataLength))
        {
            var hasher = new HashVisitor(compact, live);
            BboltWalker.Walk(file, ref hasher, cancellationToken);
            return new KvHash(hasher.Hash, hasher.Revision, compact);
        }
    }

    private struct MetaVisitor : IBboltVisitor
    {
        private bool _inMeta;

        public long Scheduled { get; private set; }

        public long Finished { get; private set; }

        public void OnBucket(ReadOnlySpan<byte> name) => _inMeta = name.SequenceEqual("meta"u8);

        public void OnEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isBucket)
        {
            // Both keys hold a revision key (main, '_', sub): its first 8 bytes are the main revision.
            if (!_inMeta || value.Length < 8)
            {
                return;
            }

            if (key.SequenceEqual("scheduledCompactRev"u8))
            {
                Scheduled = (long)BinaryPrimitives.ReadUInt64BigEndian(value);
            }
            else if (key.SequenceEqual("finishedCompactRev"u8))
            {
                Finished = (long)BinaryPrimitives.ReadUInt64BigEndian(value);
            }
        }
    }

    private struct HashVisitor(long compact, Dictionary<byte[], long> live) : IBboltVisitor
    {
        private readonly KeyValueDecoder _decoder = new();
        private uint _crc = Crc32C.Update(0xFFFFFFFFu, "key"u8);
        private bool _inKeyBucket;

        public readonly uint Hash => ~_crc;

        public long Revision { get; private set; }

        public void OnBucket(ReadOnlySpan<byte> name) => _inKeyBucket = name.SequenceEqual("key"u8);

        public void OnEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isBucket)
        {
            if (!_inKeyBucket || isBucket)
            {
                return;
            }

            var revision = RevisionKey.Parse(key);
            Revision = revision.Main;

            // etcd skips the filter when the keep set is empty (no live key at all).
            if (revision.Main <= compact && live.Count > 0 && !IsLive(revision, value))
            {
                return;
            }

            _crc = Crc32C.Update(Crc32C.Update(_crc, key), value);
        }

        private readonly bool IsLive(RevisionKey revision, ReadOnlySpan<byte> value)
        {
            if (revision.Tombstone)
            {
                return false;
            }

            var record = _decoder.Decode(value, revision);
            return live.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(record.Key, out var modRevision) && modRevision == revision.Main;
        }
    }
}
