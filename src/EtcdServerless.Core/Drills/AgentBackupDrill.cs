using System.Diagnostics;
using System.Security.Cryptography;
using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Crypto;
using EtcdServerless.Core.Keys;
using EtcdServerless.Core.Restore;
using EtcdServerless.Core.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EtcdServerless.Core.Drills;

/// <summary>
/// A restore drill run on a member's agent, for hosts that cannot run etcd (a Function App): this side reads and
/// decrypts the artifact, exactly as a restore's distribution does, and streams the plaintext over mutual TLS to the
/// agent's drill endpoint, which runs the shared <see cref="SnapshotDrill"/> checks in a scratch folder of its own.
/// The key never leaves this process; the agent only ever sees the plaintext and the manifest's figures.
/// </summary>
/// <remarks>
/// Checks: <c>decrypt</c> (this side: every chunk authenticated, size and SHA-256 equal to the manifest's), then the
/// agent's (<c>receive</c>, <c>snapshot</c> ... <c>stop</c>), or <c>agent</c> when the agent could not be reached or
/// refused the call.
/// </remarks>
internal sealed class AgentBackupDrill(IBackupStore store, IKeyStore keys, AgentClient agents, string agentUrl, ILogger? logger = null, TimeProvider? time = null) : IBackupDrill
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc/>
    public string RanOn { get; } = $"agent {agentUrl}";

    /// <summary>Runs the drill, logs its outcome and writes its record to the store.</summary>
    public Task<DrillReport> RunAndRecordAsync(BackupManifest manifest, CancellationToken cancellationToken = default) =>
        DrillRecorder.RunAndRecordAsync(this, store, manifest, _logger, _time, cancellationToken);

    /// <inheritdoc/>
    public async Task<DrillResult> RunAsync(BackupManifest manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var expected = DrillExpectation.From(manifest);
        var started = _time.GetUtcNow();
        var total = Stopwatch.StartNew();
        var checks = new DrillCheckList();
        var etcdVersion = "";
        MeteredStream? metered = null;
        try
        {
            var artifact = await store.OpenReadAsync(manifest.Artifact.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (artifact.ConfigureAwait(false))
            {
                var plain = await EnvelopeReadStream.OpenAsync(artifact, keys, leaveOpen: true, cancellationToken).ConfigureAwait(false);
                await using (plain.ConfigureAwait(false))
                {
                    metered = new MeteredStream(plain, expected.Size);
                    var answer = await agents.DrillAsync(agentUrl, expected, metered, cancellationToken).ConfigureAwait(false);
                    AddDecrypt(checks, metered, expected);
                    foreach (var check in answer.Checks)
                    {
                        checks.Add(check);
                    }

                    etcdVersion = answer.EtcdVersion;
                }
            }
        }
        catch (Exception ex) when (IsSourceFault(ex) && metered?.Fault is null)
        {
            // The artifact or the key failed before a byte was sent (unwrap, header).
            checks.Add("decrypt", false, detail: ex.Message);
        }
        catch (Exception ex) when (ex is AgentCallException or HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            if (metered?.Fault is { } fault)
            {
                // The upload stopped because the ciphertext failed mid-stream: that, not the transport, is the finding.
                checks.Add("decrypt", false, detail: fault.Message);
            }
            else
            {
                if (metered is { Completed: true })
                {
                    // Everything was decrypted and sent; the agent failed after that.
                    AddDecrypt(checks, metered, expected);
                }

                checks.Add("agent", false, detail: ex.Message);
            }
        }
        finally
        {
            metered?.Release();
        }

        return DrillResult.Create(expected, started, checks.Checks, total.Elapsed, etcdVersion, RanOn);
    }

    private static void AddDecrypt(DrillCheckList checks, MeteredStream metered, DrillExpectation expected)
    {
        if (!metered.Completed)
        {
            checks.Add(new DrillCheck("decrypt", false, null, null, $"the agent answered after {metered.Length} of {expected.Size} bytes", metered.Elapsed));
            return;
        }

        var digest = metered.Sha256 ?? "";
        var equal = metered.Length == expected.Size && string.Equals(digest, expected.Sha256, StringComparison.OrdinalIgnoreCase);
        checks.Add(new DrillCheck("decrypt", equal, expected.Sha256, digest,
            equal ? $"{metered.Length} bytes, every chunk authenticated, sha256 equal to the manifest's, streamed to the agent"
                  : $"decrypted snapshot ({metered.Length} bytes) differs from its manifest ({expected.Size} bytes)", metered.Elapsed));
    }

    private static bool IsSourceFault(Exception ex) =>
        ex is CryptographicException or KeyNotFoundException or InvalidDataException or EndOfStreamException or BackupStoreException;

    /// <summary>
    /// The plaintext on its way to the agent: hashed as it goes, stopped at the manifest's size (more would be a
    /// different snapshot), and remembering the fault of the source, which the HTTP stack only reports as a failed send.
    /// </summary>
    private sealed class MeteredStream(Stream source, long limit) : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _length;

        public Exception? Fault { get; private set; }

        public bool Completed { get; private set; }

        public TimeSpan Elapsed { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        /// <summary>The plaintext's SHA-256, once the end was read.</summary>
        public string? Sha256 { get; private set; }

        /// <summary>Frees the hash (the HTTP stack disposes the stream itself, before the answer is read).</summary>
        public void Release() => _sha.Dispose();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read;
            try
            {
                read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (_length + read > limit)
                {
                    throw new InvalidDataException($"decrypted snapshot is longer than the {limit} bytes its manifest records");
                }
            }
            catch (Exception ex) when (IsSourceFault(ex))
            {
                Fault = ex;
                throw new IOException(ex.Message, ex);
            }

            _sha.AppendData(buffer.Span[..read]);
            _length += read;
            if (read == 0 && !Completed)
            {
                Completed = true;
                Elapsed = _clock.Elapsed;
                Sha256 = Convert.ToHexStringLower(_sha.GetHashAndReset());
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    }
}
