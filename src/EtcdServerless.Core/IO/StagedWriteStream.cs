namespace EtcdServerless.Core.IO;

/// <summary>What a store's staged upload (Blob blocks, S3 parts) exposes to its content stream.</summary>
internal interface IStagedUpload
{
    /// <summary>False once the upload was committed or disposed.</summary>
    bool AcceptsWrites { get; }

    /// <summary>Bytes written so far.</summary>
    long Length { get; }

    /// <summary>Buffers <paramref name="buffer"/>, uploading a full block or part when one is ready.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>The write-only content stream of a staged upload, handed to the producer (the envelope).</summary>
internal sealed class StagedWriteStream(IStagedUpload upload) : ForwardOnlyWriteStream
{
    public override bool CanWrite => upload.AcceptsWrites;

    public override long Length => upload.Length;

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        // Synchronous callers (e.g. CryptoStream.Write) block while a block or part uploads; prefer WriteAsync.
        upload.WriteAsync(buffer.ToArray(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        upload.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        upload.WriteAsync(buffer, cancellationToken);
}
