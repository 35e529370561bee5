using Amazon.S3.Model;
using EtcdServerless.Core.IO;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.S3;

/// <summary>The body of a GET, owning the response (disposing the stream releases the connection).</summary>
internal sealed class S3ResponseStream(GetObjectResponse response) : ForwardOnlyReadStream
{
    private readonly Stream _inner = response.ResponseStream;

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _inner.Read(buffer);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Reading '{response.Key}' was interrupted.", ex);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Reading '{response.Key}' was interrupted.", ex);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
            response.Dispose();
        }

        base.Dispose(disposing);
    }
}
