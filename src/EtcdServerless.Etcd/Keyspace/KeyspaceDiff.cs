namespace EtcdServerless.Etcd.Keyspace;

/// <summary>How a key differs between two snapshots.</summary>
internal enum KeyChangeKind
{
    Added,
    Removed,
    Changed,
}

/// <summary>One key that differs; <see cref="What"/> names what changed (value, lease, recreated, rewritten).</summary>
internal sealed record KeyChange(KeyChangeKind Kind, LiveKey? Before, LiveKey? After, IReadOnlyList<string> What);

/// <summary>Compares two sorted key lists (from <see cref="KeyspaceReader.ReadLiveKeys"/> with value hashes) in one merge pass.</summary>
internal static class KeyspaceDiff
{
    public static IReadOnlyList<KeyChange> Compare(IReadOnlyList<LiveKey> before, IReadOnlyList<LiveKey> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var changes = new List<KeyChange>();
        int i = 0, j = 0;
        while (i < before.Count || j < after.Count)
        {
            var order = i == before.Count ? 1 : j == after.Count ? -1 : before[i].Key.AsSpan().SequenceCompareTo(after[j].Key);
            if (order < 0)
            {
                changes.Add(new KeyChange(KeyChangeKind.Removed, before[i++], null, []));
            }
            else if (order > 0)
            {
                changes.Add(new KeyChange(KeyChangeKind.Added, null, after[j++], []));
            }
            else
            {
                var (a, b) = (before[i++], after[j++]);
                var what = new List<string>();
                if (a.ValueHash != b.ValueHash)
                {
                    what.Add("value");
                }

                if (a.Lease != b.Lease)
                {
                    what.Add("lease");
                }

                if (a.CreateRevision != b.CreateRevision)
                {
                    what.Add("recreated");
                }
                else if (a.ModRevision != b.ModRevision && what.Count == 0)
                {
                    // Put again with the same value and lease: a write happened, nothing visible changed.
                    what.Add("rewritten");
                }

                if (what.Count > 0)
                {
                    changes.Add(new KeyChange(KeyChangeKind.Changed, a, b, what));
                }
            }
        }

        return changes;
    }
}
