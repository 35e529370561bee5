using System.Security.Cryptography;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Core.Deltas;

/// <summary>One plaintext of a materialize request: how errors name it, its announced size and SHA-256, and how to open it.</summary>
internal sealed record UploadPart(string Name, long Size, string Sha256, Func<CancellationToken, Task<Stream>> OpenAsync);

/// <summary>
/// A materialize request body as one forward-only stream: the framed description, then each part opened only when
/// the previous one is done (one decrypting reader at a time, so memory stays bounded), each checked against its
/// announced size and SHA-256 as it passes. The fault of a part (decryption, a mismatch) is remembered under the
/// part's name, because the HTTP stack reports it only as a failed send.
/// </summary>
internal sealed class MaterializeUploadStream(byte[] description, IReadOnlyList<UploadPart> parts) : ForwardOnlyReadStream
{
    private int _descriptionSent;
    private int _next;
    private Stream? _source;
    private VerifiedPartStream? _part;

    /// <summary>Bytes the whole body holds.</summary>
    public long TotalLength { get; } = description.Length + parts.Sum(p => p.Size);

    /// <summary>Why a part could not be sent (it names the part), or null.</summary>
    public InvalidDataException? Fault { get; private set; }

    public override int Read(Span<byte> buffer) => throw new NotSupportedException("the materialize body is read asynchronously");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_descriptionSent < description.Length)
        {
            var count = Math.Min(buffer.Length, description.Length - _descriptionSent);
            description.AsMemory(_descriptionSent, count).CopyTo(buffer);
            _descriptionSent += count;
            return count;
        }

        while (true)
        {
            if (_part is null)
            {
                if (_next == parts.Count)
                {
                    return 0;
                }

                await OpenNextAsync(cancellationToken).ConfigureAwait(false);
            }

            int read;
            try
            {
                read = await _part!.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsPartFault(ex))
            {
                throw Faulted(parts[_next - 1], ex);
            }

            if (read > 0)
            {
                return read;
            }

            await CloseAsync().ConfigureAwait(false);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _part?.Dispose();
            _source?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task OpenNextAsync(CancellationToken cancellationToken)
    {
        var part = parts[_next++];
        try
        {
            _source = await part.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsPartFault(ex))
        {
            throw Faulted(part, ex);
        }

        _part = new VerifiedPartStream(_source, part.Size, part.Sha256, innerEndsHere: true);
    }

    private async Task CloseAsync()
    {
        if (_part is not null)
        {
            await _part.DisposeAsync().ConfigureAwait(false);
            _part = null;
        }

        if (_source is not null)
        {
            await _source.DisposeAsync().ConfigureAwait(false);
            _source = null;
        }
    }

    private IOException Faulted(UploadPart part, Exception ex)
    {
        // A part that names itself already (a segment's own errors) keeps its message; the others get its name.
        Fault = ex is InvalidDataException named && named.Message.StartsWith(part.Name, StringComparison.Ordinal)
            ? named
            : new InvalidDataException($"{part.Name}: {ex.Message}", ex);
        return new IOException(Fault.Message, Fault);
    }

    private static bool IsPartFault(Exception ex) =>
        ex is InvalidDataException or EndOfStreamException or CryptographicException or KeyNotFoundException or BackupStoreException;
}
