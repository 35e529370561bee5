namespace EtcdServerless.Etcd.Bbolt;

/// <summary>Receives a database's content in cursor order (bucket names, then their entries by key).</summary>
internal interface IBboltVisitor
{
    /// <summary>A root-level bucket starts; its entries follow.</summary>
    void OnBucket(ReadOnlySpan<byte> name);

    /// <summary>
    /// One entry of the current root-level bucket. For a nested bucket <paramref name="isBucket"/> is true and
    /// <paramref name="value"/> is empty (bbolt's ForEach passes nil); nested buckets' own entries are checked
    /// but not reported.
    /// </summary>
    void OnEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isBucket);
}
