using System.IO.Compression;

namespace EtcdServerless.Core.Crypto;

/// <summary>How an artifact is sealed.</summary>
internal sealed record EnvelopeOptions
{
    /// <summary>
    /// The default: zstd blocks at a fast level, incompressible blocks stored as is. Measured by bench "seal" and
    /// "backup" (docs/benchmarks.md): Brotli's output size at well under half its CPU time, and almost no cost on
    /// incompressible data.
    /// </summary>
    public static EnvelopeOptions Default { get; } = new();

    /// <summary>Compression before encryption.</summary>
    public EnvelopeCompression Compression { get; init; } = EnvelopeCompression.Zstd;

    /// <summary>
    /// Compression level (ignored for <see cref="EnvelopeCompression.None"/>). For zstd, Fastest is
    /// <see cref="ZstdBlockFormat.FastestLevel"/>, Optimal level 3, SmallestSize level 19.
    /// </summary>
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
