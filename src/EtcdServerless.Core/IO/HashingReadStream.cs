using System.Security.Cryptography;

namespace EtcdServerless.Core.IO;

/// <summary>Hashes and counts every byte read through it (the caller owns <paramref name="inner"/> and the hash).</summary>
internal sealed class HashingReadStream(Stream inner, IncrementalHash hash, Action<int> counted) : ForwardOnlyReadStream
{
    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        hash.AppendData(buffer[..read]);
        counted(read);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        hash.AppendData(buffer.Span[..read]);
        counted(read);
        return read;
    }
}
