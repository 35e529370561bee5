namespace EtcdServerless.Etcd.Client;

/// <summary>The header etcd puts on every reply.</summary>
internal sealed record EtcdHeader(ulong ClusterId, ulong MemberId, long Revision, ulong RaftTerm);

/// <summary><c>Maintenance/Status</c> of one member.</summary>
internal sealed record EtcdStatus(
    EtcdHeader Header,
    string Version,
    long DbSize,
    long DbSizeInUse,
    ulong Leader,
    ulong RaftIndex,
    ulong RaftTerm,
    ulong RaftAppliedIndex,
    IReadOnlyList<string> Errors,
    bool IsLearner,
    string StorageVersion)
{
    /// <summary>True when this member is the leader it reports.</summary>
    public bool IsLeader => Leader != 0 && Leader == Header.MemberId;
}

/// <summary>One entry of <c>Cluster/MemberList</c>.</summary>
internal sealed record EtcdMember(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls, bool IsLearner);

/// <summary><c>Cluster/MemberList</c>.</summary>
internal sealed record EtcdMemberList(EtcdHeader Header, IReadOnlyList<EtcdMember> Members);

/// <summary>Alarm kinds (etcd AlarmType).</summary>
internal enum EtcdAlarmType
{
    None = 0,
    NoSpace = 1,
    Corrupt = 2,
}

/// <summary>An active alarm on a member.</summary>
internal sealed record EtcdAlarm(ulong MemberId, EtcdAlarmType Alarm);

/// <summary><c>Maintenance/Hash</c>.</summary>
internal sealed record EtcdHash(EtcdHeader Header, uint Hash);

/// <summary><c>Maintenance/HashKV</c>.</summary>
internal sealed record EtcdHashKV(EtcdHeader Header, uint Hash, long CompactRevision, long HashRevision);

/// <summary>A key-value as stored by etcd's MVCC.</summary>
internal sealed record EtcdKeyValue(byte[] Key, byte[] Value, long CreateRevision, long ModRevision, long Version, long Lease)
{
    /// <summary>Key as UTF-8.</summary>
    public string KeyString => System.Text.Encoding.UTF8.GetString(Key);

    /// <summary>Value as UTF-8.</summary>
    public string ValueString => System.Text.Encoding.UTF8.GetString(Value);
}

/// <summary><c>KV/Range</c>.</summary>
internal sealed record EtcdRangeResult(EtcdHeader Header, IReadOnlyList<EtcdKeyValue> Kvs, bool More, long Count);

/// <summary><c>KV/Put</c>.</summary>
internal sealed record EtcdPutResult(EtcdHeader Header, EtcdKeyValue? PrevKv);

/// <summary><c>KV/DeleteRange</c>.</summary>
internal sealed record EtcdDeleteResult(EtcdHeader Header, long Deleted);

/// <summary><c>KV/Txn</c> (minimal: success flag and revision).</summary>
internal sealed record EtcdTxnResult(EtcdHeader Header, bool Succeeded);

/// <summary><c>Lease/LeaseGrant</c>.</summary>
internal sealed record EtcdLease(EtcdHeader Header, long Id, long Ttl);

/// <summary>
/// One message of <c>Maintenance/Snapshot</c>. <see cref="Blob"/> is the parsed message's own memory (never
/// reused), so it may be kept after the next chunk is requested.
/// </summary>
internal readonly record struct EtcdSnapshotChunk(ReadOnlyMemory<byte> Blob, ulong RemainingBytes, string Version);

/// <summary>One change of the key space: a put (with the key's new value and revisions) or a delete (key and deletion revision).</summary>
internal sealed record EtcdWatchEvent(bool IsDelete, EtcdKeyValue Kv);

/// <summary>Every event of one revision (one transaction), in the order etcd reported them.</summary>
internal sealed record EtcdRevisionEvents(long Revision, IReadOnlyList<EtcdWatchEvent> Events);
