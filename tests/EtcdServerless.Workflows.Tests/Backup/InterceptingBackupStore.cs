using EtcdServerless.Core.Catalog;
using EtcdServerless.Core.Storage;

namespace EtcdServerless.Workflows.Tests.Backup;

/// <summary>
/// Wraps a real store and intercepts artifact writes: a hook awaited on every write (to pause, or to kill the
/// source member mid-stream) and an injected fault after N bytes (a storage outage mid-upload).
/// </summary>
internal sealed class InterceptingBackupStore(IBackupStore inner) : IBackupStore
{
    private int _faultsLeft;

    /// <summary>Called before each artifact write with the bytes written so far by that writer.</summary>
    public Func<long, Task>? OnArtifactWrite { get; set; }

    /// <summary>The next <paramref name="count"/> artifact writers throw once they pass <see cref="FailAfterBytes"/>.</summary>
    public void FailNextWriters(int count) => _faultsLeft = count;

    public long FailAfterBytes { get; set; } = 64 * 1024;

    public int ArtifactWritersOpened;

    public string Description => inner.Description;

    public Task<StoreInitResult> InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

    public async Task<IBackupObjectWriter> OpenWriteAsync(string name, BackupObjectWriteOptions options, CancellationToken cancellationToken = default)
    {
        var writer = await inner.OpenWriteAsync(name, options, cancellationToken);
        if (!name.EndsWith(BackupNaming.ArtifactSuffix, StringComparison.Ordinal) && !name.EndsWith(Core.Deltas.DeltaNaming.ArtifactSuffix, StringComparison.Ordinal))
        {
            return writer;
        }

        Interlocked.Increment(ref ArtifactWritersOpened);
        var fail = Interlocked.Decrement(ref _faultsLeft) >= 0;
        return new Writer(writer, new InterceptStream(writer.Content, this, fail));
    }

    public Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken cancellationToken = default) =>
        inner.OpenReadAsync(name, offset, length, cancellationToken);

    public Task<StoredObjectInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default) => inner.GetInfoAsync(name, cancellationToken);

    public IAsyncEnumerable<StoredObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);

    public Task SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default) =>
        inner.SetTagsAsync(name, tags, cancellationToken);

    public Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string name, CancellationToken cancellationToken = default) =>
        inner.GetTagsAsync(name, cancellationToken);

    private sealed class Writer(IBackupObjectWriter inner, Stream content) : IBackupObjectWriter
    {
        public Stream Content => content;

        public Task<StoredObjectInfo> CommitAsync(CancellationToken cancellationToken = default) => inner.CommitAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class InterceptStream(Stream inner, InterceptingBackupStore owner, bool fail) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (owner.OnArtifactWrite is { } hook)
            {
                await hook(_written);
            }

            if (fail && _written + buffer.Length > owner.FailAfterBytes)
            {
                throw new BackupStoreException("injected storage fault mid-upload", new IOException("connection reset by fake"));
            }

            await inner.WriteAsync(buffer, cancellationToken);
            _written += buffer.Length;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
