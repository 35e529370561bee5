namespace EtcdServerless.Etcd.Keyspace;

/// <summary>A key live at the snapshot's revision, with what <c>etcdctl get</c> reports about it (the value aside).</summary>
internal sealed record LiveKey
{
    public required byte[] Key { get; init; }

    public long CreateRevision { get; init; }

    public long ModRevision { get; init; }

    public long Version { get; init; }

    public long Lease { get; init; }

    public int ValueSize { get; init; }

    /// <summary>The Kubernetes envelope of the value, when it has one.</summary>
    public KubernetesType? Kubernetes { get; init; }

    /// <summary>SHA-256 (first 16 bytes) of the value, when asked for (diffs compare it).</summary>
    public UInt128 ValueHash { get; init; }
}

/// <summary>The live keys of a snapshot, sorted by key bytes as etcd sorts them.</summary>
/// <param name="Revision">The snapshot's revision (the highest main revision in the <c>key</c> bucket).</param>
/// <param name="Keys">Live keys under the prefix.</param>
internal sealed record LiveKeyspace(long Revision, IReadOnlyList<LiveKey> Keys);

/// <summary>One key's value at the snapshot's revision.</summary>
internal sealed record KeyValueAtRevision(LiveKey Key, byte[] Value, long Revision);
