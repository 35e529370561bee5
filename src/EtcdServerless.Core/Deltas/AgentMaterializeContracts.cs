using System.Buffers.Binary;
using System.Text.Json;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// The wire contract of the agent's materialize endpoint (<c>POST /v1/materialize</c>, docs/agent.md). The request
/// body is one stream: a 4-byte big-endian length, the JSON <see cref="AgentMaterializeRequest"/> of that many bytes,
/// then the plaintexts back to back in the order it lists them (the base snapshot, then each segment's
/// <see cref="DeltaSegmentFormat"/> records), each exactly its announced size. Sizes travel in the description, so
/// the parts need no framing of their own, and Content-Length is the sum. The answer (200) is the snapshot itself,
/// with its revision and SHA-256 in headers; a refusal or failure is problem+json.
/// </summary>
internal static class AgentMaterializeProtocol
{
    /// <summary>The endpoint's path.</summary>
    public const string Path = "v1/materialize";

    /// <summary>Answer header: the materialized snapshot's revision.</summary>
    public const string RevisionHeader = "X-Snapshot-Revision";

    /// <summary>Answer header: how many revisions were replayed on the base.</summary>
    public const string ReplayedHeader = "X-Replayed-Revisions";

    /// <summary>The largest description accepted (a chain of many thousand segments fits).</summary>
    public const int MaxDescriptionBytes = 4 << 20;

    /// <summary>The description with its length prefix: what the body starts with.</summary>
    public static byte[] Frame(AgentMaterializeRequest request)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(request, AgentProtocol.Json);
        var framed = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(framed, json.Length);
        json.CopyTo(framed, 4);
        return framed;
    }

    /// <summary>Reads and checks the description at the start of <paramref name="body"/>, leaving the body at the first plaintext.</summary>
    /// <exception cref="InvalidDataException">The prefix or the description is malformed.</exception>
    /// <exception cref="EndOfStreamException">The body ends inside the description.</exception>
    public static async Task<(AgentMaterializeRequest Request, int FramedLength)> ReadAsync(Stream body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var prefix = new byte[4];
        await body.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (length is <= 0 or > MaxDescriptionBytes)
        {
            throw new InvalidDataException($"the description's length {length} is out of bounds (1 to {MaxDescriptionBytes} bytes)");
        }

        var json = new byte[length];
        await body.ReadExactlyAsync(json, cancellationToken).ConfigureAwait(false);
        AgentMaterializeRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<AgentMaterializeRequest>(json, AgentProtocol.Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"the description is not valid JSON: {ex.Message}", ex);
        }

        (request ?? throw new InvalidDataException("the description is empty")).Validate();
        return (request, 4 + length);
    }
}

/// <summary>The base snapshot of a materialization: its backup, exact revision and plaintext's size and SHA-256.</summary>
internal sealed record AgentMaterializeBase
{
    public required string BackupId { get; init; }

    /// <summary>The snapshot's exact (bbolt) revision: replay starts strictly after it.</summary>
    public required long Revision { get; init; }

    public required long Size { get; init; }

    public required string Sha256 { get; init; }
}

/// <summary>One segment of a materialization: its revision range and its plaintext's size and SHA-256.</summary>
internal sealed record AgentMaterializeSegment
{
    public required string SegmentId { get; init; }

    public required long FromRevision { get; init; }

    public required long ToRevision { get; init; }

    public required long Size { get; init; }

    public required string Sha256 { get; init; }
}

/// <summary>The JSON description that starts a materialize request (<see cref="AgentMaterializeProtocol"/>).</summary>
internal sealed record AgentMaterializeRequest
{
    private const int MaxNameLength = 253;
    private const int MaxSegments = 100_000;

    public required string Cluster { get; init; }

    public required long TargetRevision { get; init; }

    /// <summary>One line naming the chain (errors quote it).</summary>
    public string Chain { get; init; } = "";

    public required AgentMaterializeBase Base { get; init; }

    public required IReadOnlyList<AgentMaterializeSegment> Segments { get; init; }

    /// <summary>The body's whole length: the framed description and every plaintext.</summary>
    public long BodyLength(int framedLength) => framedLength + Base.Size + Segments.Sum(s => s.Size);

    /// <summary>What the replay must reach.</summary>
    public ReplayTarget Target() => new(Cluster, TargetRevision, Base.BackupId, Base.Revision, Base.Size, Chain);

    /// <summary>The description of <paramref name="plan"/>: the figures its manifests record.</summary>
    public static AgentMaterializeRequest From(MaterializePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new()
        {
            Cluster = plan.Cluster,
            TargetRevision = plan.TargetRevision,
            Chain = plan.Describe(),
            Base = new() { BackupId = plan.Base.BackupId, Revision = plan.Base.Snapshot.Revision, Size = plan.Base.Snapshot.Size, Sha256 = plan.Base.Snapshot.Sha256 },
            Segments = [.. plan.Segments.Select(s => new AgentMaterializeSegment
            {
                SegmentId = s.SegmentId,
                FromRevision = s.FromRevision,
                ToRevision = s.ToRevision,
                Size = s.Plaintext.Size,
                Sha256 = s.Plaintext.Sha256,
            })],
        };
    }

    /// <summary>Checks what the agent relies on before reading a byte of plaintext.</summary>
    /// <exception cref="InvalidDataException">The first problem, named.</exception>
    public void Validate()
    {
        Name(Cluster, "cluster");
        Name(Chain.Length == 0 ? "-" : Chain, "chain", 64 * 1024);
        if (Base is null)
        {
            throw new InvalidDataException("base is required");
        }

        Name(Base.BackupId, "base.backupId");
        Digest(Base.Sha256, "base.sha256");
        if (Base.Size <= 0 || Base.Revision < 1)
        {
            throw new InvalidDataException("base.size and base.revision must be positive");
        }

        if (TargetRevision < Base.Revision)
        {
            throw new InvalidDataException($"targetRevision {TargetRevision} is before the base's revision {Base.Revision}");
        }

        if (Segments is null || Segments.Count > MaxSegments)
        {
            throw new InvalidDataException($"segments is required (at most {MaxSegments})");
        }

        var covered = Base.Revision;
        foreach (var segment in Segments)
        {
            Name(segment.SegmentId, "segments[].segmentId");
            Digest(segment.Sha256, $"the sha256 of segment {segment.SegmentId}");
            if (segment.Size <= 0 || segment.FromRevision < 1 || segment.ToRevision < segment.FromRevision || segment.FromRevision > covered + 1)
            {
                throw new InvalidDataException($"segment {segment.SegmentId} (revisions {segment.FromRevision}-{segment.ToRevision}, {segment.Size} bytes) does not continue the chain at revision {covered + 1}");
            }

            covered = Math.Max(covered, segment.ToRevision);
        }

        if (covered < TargetRevision)
        {
            throw new InvalidDataException($"the segments reach revision {covered}, before the target {TargetRevision}");
        }
    }

    private static void Name(string? value, string field, int max = MaxNameLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > max || value.Any(char.IsControl))
        {
            throw new InvalidDataException($"{field} is required (at most {max} printable characters)");
        }
    }

    private static void Digest(string? value, string field)
    {
        if (value is not { Length: 64 } || !value.All(char.IsAsciiHexDigit))
        {
            throw new InvalidDataException($"{field} must be 64 hex digits");
        }
    }
}
