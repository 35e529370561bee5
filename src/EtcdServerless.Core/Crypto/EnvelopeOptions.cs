using System.IO.Compression;

namespace EtcdServerless.Core.Crypto;

/// <summary>How an artifact is sealed.</summary>
internal sealed record EnvelopeOptions
{
    /// <summary>
    /// The default: Brotli at its fastest level. Measured on a 256 MiB etcd-like snapshot (bench "seal", see
    /// docs/format.md): it shrinks the upload several times at a speed above what a snapshot stream delivers.
    /// </summary>
    public static EnvelopeOptions Default { get; } = new();

    /// <summary>Compression before encryption.</summary>
    public EnvelopeCompression Compression { get; init; } = EnvelopeCompression.Brotli;

    /// <summary>Compression level (ignored for <see cref="EnvelopeCompression.None"/>).</summary>
    public CompressionLevel CompressionLevel { get; init; } = CompressionLevel.Fastest;

    /// <summary>Plaintext bytes per chunk, between <see cref="EnvelopeFormat.MinChunkSize"/> and <see cref="EnvelopeFormat.MaxChunkSize"/>.</summary>
    public int ChunkSize { get; init; } = EnvelopeFormat.DefaultChunkSize;

    /// <summary>Whether to compute the SHA-256 of the artifact while writing (for the manifest); costs one hash pass.</summary>
    public bool ComputeArtifactSha256 { get; init; } = true;

    internal void Validate()
    {
        if (ChunkSize is < EnvelopeFormat.MinChunkSize or > EnvelopeFormat.MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ChunkSize), ChunkSize, $"Chunk size must be between {EnvelopeFormat.MinChunkSize} and {EnvelopeFormat.MaxChunkSize} bytes.");
        }

        if (!Enum.IsDefined(Compression))
        {
            throw new ArgumentOutOfRangeException(nameof(Compression), Compression, "Unknown compression.");
        }
    }
}
