using System.Runtime.CompilerServices;
using EtcdServerless.Core.Deltas;
using EtcdServerless.Core.IO;
using EtcdServerless.Etcd.Client;

namespace EtcdServerless.Agent.Materialize;

/// <summary>
/// A replay's inputs read from a materialize request body, one part after the other (<see cref="AgentMaterializeProtocol"/>):
/// each part is checked against its announced size and SHA-256 as it is read, and a part the replay did not need
/// (past the target, or already covered) is still read and checked, so a body is accepted only when every part matched.
/// </summary>
internal sealed class RequestReplaySource(Stream body, AgentMaterializeRequest request) : IReplaySource, IDisposable
{
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // The segment part being read (or abandoned mid-way by the replay), and the index of the next unread segment.
    private VerifiedPartStream? _open;
    private int _openIndex = -1;
    private int _next;

    public IReadOnlyList<ReplaySegment> Segments { get; } = [.. request.Segments.Select(s => new ReplaySegment(s.SegmentId, s.SegmentId, s.ToRevision))];

    public async Task WriteBaseAsync(string path, CancellationToken cancellationToken = default)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        var part = new VerifiedPartStream(body, request.Base.Size, request.Base.Sha256);
        await using (part.ConfigureAwait(false))
        {
            var file = new FileStream(path, options);
            await using (file.ConfigureAwait(false))
            {
                try
                {
                    await part.CopyToAsync(file, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
                {
                    throw new InvalidDataException($"the base snapshot (full backup {request.Base.BackupId}) is not what was announced: {ex.Message}", ex);
                }
            }
        }
    }

    public async IAsyncEnumerable<EtcdRevisionEvents> ReadAsync(int index, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await SkipToAsync(index, cancellationToken).ConfigureAwait(false);
        var segment = request.Segments[index];
        _open = new VerifiedPartStream(body, segment.Size, segment.Sha256);
        _openIndex = index;
        _next = index + 1;
        using var reader = new DeltaSegmentReader(_open);
        await foreach (var revision in reader.ReadRevisionsAsync($"segment {segment.SegmentId}", cancellationToken).ConfigureAwait(false))
        {
            yield return revision;
        }
    }

    /// <summary>Reads and checks every part the replay left unread, up to the end of the body.</summary>
    public Task CompleteAsync(CancellationToken cancellationToken = default) => SkipToAsync(request.Segments.Count, cancellationToken);

    public void Dispose() => _open?.Dispose();

    private async Task SkipToAsync(int index, CancellationToken cancellationToken)
    {
        if (_open is not null)
        {
            await DrainAsync(_open, _openIndex, cancellationToken).ConfigureAwait(false);
            await _open.DisposeAsync().ConfigureAwait(false);
            _open = null;
        }

        for (; _next < index; _next++)
        {
            var segment = request.Segments[_next];
            var part = new VerifiedPartStream(body, segment.Size, segment.Sha256);
            await using (part.ConfigureAwait(false))
            {
                await DrainAsync(part, _next, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DrainAsync(VerifiedPartStream part, int index, CancellationToken cancellationToken)
    {
        try
        {
            await part.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidDataException($"segment {request.Segments[index].SegmentId} is damaged: {ex.Message}", ex);
        }
    }
}
