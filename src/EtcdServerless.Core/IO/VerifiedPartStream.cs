using System.Security.Cryptography;

namespace EtcdServerless.Core.IO;

/// <summary>
/// Exactly <paramref name="size"/> bytes of <paramref name="inner"/>, hashed as they pass: once the last byte is read,
/// the SHA-256 must equal <paramref name="sha256"/> (else <see cref="InvalidDataException"/>), and an inner stream that
/// ends first is an <see cref="EndOfStreamException"/>. It never reads past its part, so consecutive parts of one
/// stream (a request body) each get their own check. With <paramref name="innerEndsHere"/>, the inner stream must end
/// with the part (a longer one is an <see cref="InvalidDataException"/>). Messages do not name the part: callers do.
/// The inner stream is left open.
/// </summary>
internal sealed class VerifiedPartStream(Stream inner, long size, string sha256, bool innerEndsHere = false) : ForwardOnlyReadStream
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;

    /// <summary>Every byte was read and the part matched its size and SHA-256.</summary>
    public bool Verified { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        if (_read == size)
        {
            Verify(innerEndsHere ? inner.Read(new byte[1]) : 0);
            return 0;
        }

        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, size - _read)]);
        Account(buffer[..read]);
        if (_read == size)
        {
            Verify(innerEndsHere ? inner.Read(new byte[1]) : 0);
        }

        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_read == size)
        {
            Verify(innerEndsHere ? await inner.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) : 0);
            return 0;
        }

        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, size - _read)], cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..read]);
        if (_read == size)
        {
            // Checked before the last bytes are handed on: a consumer never acts on the end of a part that is wrong.
            Verify(innerEndsHere ? await inner.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) : 0);
        }

        return read;
    }

    /// <summary>Reads what is left of the part, discarding it, so it is checked and the next part can be read.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        var buffer = new byte[1 << 16];
        while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Account(ReadOnlySpan<byte> read)
    {
        if (read.IsEmpty)
        {
            throw new EndOfStreamException($"the part ended after {_read} of its {size} bytes");
        }

        _sha.AppendData(read);
        _read += read.Length;
    }

    private void Verify(int extra)
    {
        if (Verified)
        {
            return;
        }

        if (extra > 0)
        {
            throw new InvalidDataException($"the part is longer than the {size} bytes announced");
        }

        var actual = Convert.ToHexStringLower(_sha.GetHashAndReset());
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"the part's sha256 {actual} differs from the announced {sha256} ({size} bytes)");
        }

        Verified = true;
    }
}
