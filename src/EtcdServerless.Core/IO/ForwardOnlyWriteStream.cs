namespace EtcdServerless.Core.IO;

/// <summary>
/// Base of the pipeline's write-only, non-seekable streams (compression, sealing, staged uploads): the Stream surface
/// they all reject lives here once, so each subclass holds only its writing logic.
/// </summary>
internal abstract class ForwardOnlyWriteStream : Stream
{
    public sealed override bool CanRead => false;

    public sealed override bool CanSeek => false;

    /// <summary>Bytes written so far, where the stream counts them; unknown by default.</summary>
    public override long Length => throw new NotSupportedException();

    /// <summary>Position is <see cref="Length"/> where known; it can never be set.</summary>
    public override long Position
    {
        get => Length;
        set => throw new NotSupportedException();
    }

    public abstract override void Write(ReadOnlySpan<byte> buffer);

    public sealed override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();
}
