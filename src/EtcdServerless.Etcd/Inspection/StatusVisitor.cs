using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using EtcdServerless.Etcd.Bbolt;

namespace EtcdServerless.Etcd.Inspection;

/// <summary>
/// Accumulates <c>snapshot status</c> over one ordered walk: one running CRC-32C over every bucket name, key
/// and value; the revision of the last <c>key</c> entry; the key count by the chosen release's rules.
/// </summary>
internal struct StatusVisitor : IBboltVisitor
{
    private const int RevisionLength = 17;
    private const int TombstoneRevisionLength = 18;

    private readonly TotalKeySemantics _semantics;
    private readonly HashSet<string>? _liveKeys;
    private uint _crc;
    private long _entries;
    private long _revision;
    private BucketKind _bucket;
    private string? _storageVersion;

    public StatusVisitor(TotalKeySemantics semantics)
    {
        _semantics = semantics;
        _liveKeys = semantics == TotalKeySemantics.Etcd36 ? new HashSet<string>(StringComparer.Ordinal) : null;
        _crc = 0xFFFFFFFFu;
    }

    private enum BucketKind
    {
        Other,
        Key,
        Meta,
    }

    public readonly uint Hash => ~_crc;

    public readonly long Revision => _revision;

    public readonly long TotalKey => _liveKeys?.Count ?? _entries;

    /// <summary>3.6: the semantic version in <c>meta/storageVersion</c>, or empty; null under 3.4/3.5.</summary>
    public readonly string? Version => _semantics == TotalKeySemantics.Etcd36 ? ParseSemanticVersion(_storageVersion) : null;

    public void OnBucket(ReadOnlySpan<byte> name)
    {
        _crc = Crc32C.Update(_crc, name);
        _bucket = name.SequenceEqual("key"u8) ? BucketKind.Key
            : name.SequenceEqual("meta"u8) ? BucketKind.Meta
            : BucketKind.Other;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void OnEntry(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool isBucket)
    {
        _crc = Crc32C.Update(Crc32C.Update(_crc, key), value);
        _entries++;
        if (_bucket == BucketKind.Key)
        {
            OnRevisionKey(key, value);
        }
        else if (_bucket == BucketKind.Meta && key.SequenceEqual("storageVersion"u8))
        {
            _storageVersion = Encoding.Latin1.GetString(value);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void OnRevisionKey(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        // 3.4/3.5 read main = key[0:8], sub = key[9:17] unchecked (shorter keys make etcdctl panic);
        // 3.6 also insists on the '_' separator, a 17/18-byte length and non-negative parts.
        if (key.Length < RevisionLength)
        {
            throw new InvalidDataException(
                $"bucket 'key': entry key of {key.Length} bytes is not a revision (expected {RevisionLength} or {TombstoneRevisionLength})");
        }

        var main = (long)BinaryPrimitives.ReadUInt64BigEndian(key);
        if (_liveKeys is null)
        {
            _revision = main;
            return;
        }

        var sub = (long)BinaryPrimitives.ReadUInt64BigEndian(key[9..]);
        if (key.Length > TombstoneRevisionLength || key[8] != (byte)'_' || main < 0 || sub < 0)
        {
            throw new InvalidDataException(
                $"bucket 'key': entry key {Convert.ToHexStringLower(key)} is not a valid revision");
        }

        _revision = main;
        var userKey = Encoding.Latin1.GetString(KeyValueReader.ReadKey(value));
        if (key.Length == TombstoneRevisionLength && key[17] == (byte)'t')
        {
            _liveKeys.Remove(userKey);
        }
        else
        {
            _liveKeys.Add(userKey);
        }
    }

    // go-semver's rules, reduced to what a storage version can be: MAJOR.MINOR.PATCH[-pre][+build].
    private static string ParseSemanticVersion(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var build = "";
        var plus = text.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0)
        {
            build = text[plus..];
            text = text[..plus];
            if (!IsIdentifierList(build.AsSpan(1)))
            {
                return "";
            }
        }

        var pre = "";
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            pre = text[dash..];
            text = text[..dash];
            if (!IsIdentifierList(pre.AsSpan(1)))
            {
                return "";
            }
        }

        var parts = text.Split('.');
        if (parts.Length != 3)
        {
            return "";
        }

        var numbers = new long[3];
        for (var i = 0; i < 3; i++)
        {
            if (parts[i].Length == 0 || !parts[i].All(char.IsAsciiDigit) || !long.TryParse(parts[i], System.Globalization.CultureInfo.InvariantCulture, out numbers[i]))
            {
                return "";
            }
        }

        return FormattableString.Invariant($"{numbers[0]}.{numbers[1]}.{numbers[2]}{pre}{build}");
    }

    private static bool IsIdentifierList(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '.')
            {
                return false;
            }
        }

        return true;
    }
}
