using System.Buffers.Binary;

namespace EtcdServerless.Etcd.Keyspace;

/// <summary>
/// A key of etcd's <c>key</c> bucket: main revision (8 bytes big-endian), <c>'_'</c>, sub revision (8 bytes
/// big-endian), and a trailing <c>'t'</c> when the entry is a deletion (etcd's server/storage/mvcc/revision.go).
/// </summary>
/// <param name="Main">The store revision of the transaction.</param>
/// <param name="Sub">The change's index inside that transaction.</param>
/// <param name="Tombstone">True when the entry deletes its key.</param>
internal readonly record struct RevisionKey(long Main, long Sub, bool Tombstone)
{
    /// <summary>Length of a plain revision key.</summary>
    public const int Length = 17;

    /// <summary>Length of a tombstone revision key.</summary>
    public const int TombstoneLength = 18;

    /// <summary>Parses a bucket key; <see cref="InvalidDataException"/> when it is not a revision.</summary>
    public static RevisionKey Parse(ReadOnlySpan<byte> key)
    {
        // Stricter than 3.4's reader, as strict as 3.6's: anything else would be silently misread.
        if ((key.Length != Length && key.Length != TombstoneLength) || key[8] != (byte)'_'
            || (key.Length == TombstoneLength && key[17] != (byte)'t'))
        {
            throw new InvalidDataException(
                $"bucket 'key': entry key {Convert.ToHexStringLower(key[..Math.Min(key.Length, 32)])} is not a revision (main '_' sub ['t'])");
        }

        var main = (long)BinaryPrimitives.ReadUInt64BigEndian(key);
        var sub = (long)BinaryPrimitives.ReadUInt64BigEndian(key[9..]);
        if (main < 0 || sub < 0)
        {
            throw new InvalidDataException($"bucket 'key': entry key {Convert.ToHexStringLower(key)} has a negative revision");
        }

        return new RevisionKey(main, sub, key.Length == TombstoneLength);
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"{Main}_{Sub}{(Tombstone ? "t" : "")}");
}
