using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using EtcdServerless.Etcd.Client;
using EtcdServerless.Etcd.Keyspace;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// The plaintext of a delta segment (docs/format.md): the magic <c>ETCDSLD1</c>, then length-prefixed records in
/// revision order (<c>u32 BE length</c>, then a kind byte and its payload): <c>P</c> a put and <c>D</c> a delete, each
/// with etcd's <c>mvccpb.KeyValue</c> message; a final <c>E</c> record with first and last revision, event and
/// revision counts (four <c>i64 BE</c>). Records stream: a writer or reader holds one revision at a time.
/// </summary>
internal static class DeltaSegmentFormat
{
    /// <summary>The first 8 bytes of every segment's plaintext.</summary>
    public static ReadOnlySpan<byte> Magic => "ETCDSLD1"u8;

    /// <summary>The largest record accepted (a key-value above etcd's request limits cannot have been written).</summary>
    public const int MaxRecordLength = 64 * 1024 * 1024;

    public const byte Put = (byte)'P';
    public const byte Delete = (byte)'D';
    public const byte End = (byte)'E';
    public const int EndPayloadLength = 32;
}

/// <summary>Writes a segment's records to a stream (the envelope), hashing the plaintext as it goes.</summary>
internal sealed class DeltaSegmentWriter : IDisposable
{
    private readonly Stream _output;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private bool _started;

    public DeltaSegmentWriter(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    public long FirstRevision { get; private set; }

    public long LastRevision { get; private set; }

    public long Events { get; private set; }

    public long Revisions { get; private set; }

    /// <summary>Plaintext bytes written.</summary>
    public long Size { get; private set; }

    /// <summary>Appends one revision's events; revisions must increase.</summary>
    public async Task WriteRevisionAsync(EtcdRevisionEvents revision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(revision);
        if (revision.Revision <= LastRevision)
        {
            throw new InvalidOperationException($"revision {revision.Revision} written after {LastRevision}");
        }

        await StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var e in revision.Events)
        {
            if (e.Kv.ModRevision != revision.Revision)
            {
                throw new InvalidOperationException($"an event of revision {e.Kv.ModRevision} inside revision {revision.Revision}");
            }

            await WriteRecordAsync(e.IsDelete ? DeltaSegmentFormat.Delete : DeltaSegmentFormat.Put, KeyValueCodec.Encode(e.Kv), cancellationToken).ConfigureAwait(false);
            Events++;
        }

        FirstRevision = FirstRevision == 0 ? revision.Revision : FirstRevision;
        LastRevision = revision.Revision;
        Revisions++;
    }

    /// <summary>Writes the end record and returns the plaintext's SHA-256 (lowercase hex).</summary>
    public async Task<string> CompleteAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var end = new byte[DeltaSegmentFormat.EndPayloadLength];
        BinaryPrimitives.WriteInt64BigEndian(end.AsSpan(0), FirstRevision);
        BinaryPrimitives.WriteInt64BigEndian(end.AsSpan(8), LastRevision);
        BinaryPrimitives.WriteInt64BigEndian(end.AsSpan(16), Events);
        BinaryPrimitives.WriteInt64BigEndian(end.AsSpan(24), Revisions);
        await WriteRecordAsync(DeltaSegmentFormat.End, end, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(_sha.GetHashAndReset());
    }

    public void Dispose() => _sha.Dispose();

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            _started = true;
            await WriteAsync(DeltaSegmentFormat.Magic.ToArray(), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task WriteRecordAsync(byte kind, byte[] payload, CancellationToken cancellationToken)
    {
        if (payload.Length + 1 > DeltaSegmentFormat.MaxRecordLength)
        {
            throw new InvalidOperationException($"a record of {payload.Length} bytes exceeds the segment format's {DeltaSegmentFormat.MaxRecordLength}");
        }

        // One write per record: the envelope chunks and compresses behind it.
        var record = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(record, (uint)(payload.Length + 1));
        record[4] = kind;
        payload.CopyTo(record.AsSpan(5));
        await WriteAsync(record, cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await _output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        _sha.AppendData(bytes);
        Size += bytes.Length;
    }
}

/// <summary>
/// Reads a segment's records back, one revision at a time, checking the format as it goes: the magic, record
/// bounds and kinds, revisions increasing, the end record last and its counts equal to what was read. Malformed
/// data is an <see cref="InvalidDataException"/>, a cut stream an <see cref="EndOfStreamException"/>.
/// </summary>
internal sealed class DeltaSegmentReader(Stream input) : IDisposable
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Plaintext bytes read.</summary>
    public long Size { get; private set; }

    /// <summary>The plaintext's SHA-256 (lowercase hex), once the enumeration ended normally.</summary>
    public string? Sha256 { get; private set; }

    /// <summary>First and last revision and counts, as the end record states them (after a full read).</summary>
    public (long First, long Last, long Events, long Revisions) Summary { get; private set; }

    public async IAsyncEnumerable<EtcdRevisionEvents> ReadRevisionsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var magic = await ReadExactAsync(DeltaSegmentFormat.Magic.Length, cancellationToken).ConfigureAwait(false);
        if (!magic.AsSpan().SequenceEqual(DeltaSegmentFormat.Magic))
        {
            throw new InvalidDataException("not a delta segment (bad magic)");
        }

        var pending = new List<EtcdWatchEvent>();
        long pendingRevision = 0, lastRevision = 0, firstRevision = 0, events = 0, revisions = 0;
        while (true)
        {
            var prefix = await ReadExactAsync(4, cancellationToken).ConfigureAwait(false);
            var length = BinaryPrimitives.ReadUInt32BigEndian(prefix);
            if (length is 0 or > DeltaSegmentFormat.MaxRecordLength)
            {
                throw new InvalidDataException($"record length {length} at plaintext offset {Size - 4} is out of bounds");
            }

            var record = await ReadExactAsync((int)length, cancellationToken).ConfigureAwait(false);
            var kind = record[0];
            if (kind == DeltaSegmentFormat.End)
            {
                if (pending.Count > 0)
                {
                    yield return new EtcdRevisionEvents(pendingRevision, pending);
                    revisions++;
                }

                CheckEnd(record.AsSpan(1), firstRevision, lastRevision, events, revisions);
                if (await input.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
                {
                    throw new InvalidDataException("data after the end record");
                }

                Sha256 = Convert.ToHexStringLower(_sha.GetHashAndReset());
                yield break;
            }

            if (kind is not DeltaSegmentFormat.Put and not DeltaSegmentFormat.Delete)
            {
                throw new InvalidDataException($"unknown record kind 0x{kind:x2} at plaintext offset {Size - length - 4}");
            }

            var kv = KeyValueCodec.Decode(record.AsSpan(1));
            if (kv.ModRevision < lastRevision || kv.ModRevision < 1)
            {
                throw new InvalidDataException($"revision {kv.ModRevision} after revision {lastRevision}: records out of order");
            }

            if (kv.ModRevision != pendingRevision && pending.Count > 0)
            {
                yield return new EtcdRevisionEvents(pendingRevision, pending);
                revisions++;
                pending = [];
            }

            firstRevision = firstRevision == 0 ? kv.ModRevision : firstRevision;
            pendingRevision = lastRevision = kv.ModRevision;
            pending.Add(new EtcdWatchEvent(kind == DeltaSegmentFormat.Delete, kv));
            events++;
        }
    }

    /// <summary>
    /// <see cref="ReadRevisionsAsync(CancellationToken)"/>, with any failure of the format or of the stream below
    /// (decryption, a cut or mismatched part) an <see cref="InvalidDataException"/> naming <paramref name="segment"/>.
    /// </summary>
    public async IAsyncEnumerable<EtcdRevisionEvents> ReadRevisionsAsync(string segment, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var enumerator = ReadRevisionsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or Storage.BackupStoreException or CryptographicException)
                {
                    throw new InvalidDataException($"{segment} is damaged: {ex.Message}", ex);
                }

                yield return enumerator.Current;
            }
        }
    }

    public void Dispose() => _sha.Dispose();

    private void CheckEnd(ReadOnlySpan<byte> payload, long first, long last, long events, long revisions)
    {
        if (payload.Length != DeltaSegmentFormat.EndPayloadLength)
        {
            throw new InvalidDataException($"end record of {payload.Length} bytes (expected {DeltaSegmentFormat.EndPayloadLength})");
        }

        var stated = (BinaryPrimitives.ReadInt64BigEndian(payload), BinaryPrimitives.ReadInt64BigEndian(payload[8..]),
            BinaryPrimitives.ReadInt64BigEndian(payload[16..]), BinaryPrimitives.ReadInt64BigEndian(payload[24..]));
        if (stated != (first, last, events, revisions))
        {
            throw new InvalidDataException($"end record states revisions {stated.Item1}-{stated.Item2}, {stated.Item3} events in {stated.Item4} revisions; read {first}-{last}, {events} in {revisions}");
        }

        Summary = stated;
    }

    private async Task<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await input.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        _sha.AppendData(buffer);
        Size += count;
        return buffer;
    }
}
