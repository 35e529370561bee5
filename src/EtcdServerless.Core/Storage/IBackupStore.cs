namespace EtcdServerless.Core.Storage;

/// <summary>
/// Where sealed backup artifacts and their manifests live. Implementations: the local WORM directory store
/// (embedded default) and the Azure Blob store (Azure.Storage.Blobs). Names are '/'-separated relative paths such as
/// <c>prod-east/2026/11/21/20261121T101500Z-000000000042.snap.enc</c>.
/// </summary>
/// <remarks>
/// Every store is write-once: writing a name that already exists fails with
/// <see cref="BackupObjectExistsException"/>; deleting an object whose retention has not expired fails with
/// <see cref="BackupObjectImmutableException"/>. Faults of the underlying medium surface as
/// <see cref="BackupStoreException"/> with the transport error kept as the inner exception.
/// </remarks>
public interface IBackupStore
{
    /// <summary>A short, secret-free description of the store for manifests and logs (e.g. <c>file:///var/lib/x</c>).</summary>
    string Description { get; }

    /// <summary>
    /// Prepares an empty store: creates the container or folder when it is missing and the credentials allow it,
    /// and reports the immutability protection it finds. Idempotent. Throws <see cref="BackupStoreException"/>
    /// when the store is missing and cannot be created, or cannot be reached.
    /// </summary>
    Task<StoreInitResult> InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a streamed write. Bytes written to <see cref="IBackupObjectWriter.Content"/> are staged and become
    /// visible only when <see cref="IBackupObjectWriter.CommitAsync"/> succeeds; disposing an uncommitted writer
    /// discards what was staged.
    /// </summary>
    Task<IBackupObjectWriter> OpenWriteAsync(string name, BackupObjectWriteOptions options, CancellationToken cancellationToken = default);

    /// <summary>Opens a committed object for reading, optionally a byte range. Throws <see cref="BackupObjectNotFoundException"/>.</summary>
    Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken cancellationToken = default);

    /// <summary>Returns the object's properties, or <see langword="null"/> when no committed object has that name.</summary>
    Task<StoredObjectInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists committed objects whose names start with <paramref name="prefix"/>, in name order, paging internally.</summary>
    IAsyncEnumerable<StoredObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Deletes an object. Throws <see cref="BackupObjectImmutableException"/> while it is under retention.</summary>
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Replaces the object's tags (tags stay writable on immutable objects).</summary>
    Task SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default);

    /// <summary>Reads the object's tags.</summary>
    Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>A staged write to an <see cref="IBackupStore"/>. Dispose without commit aborts it.</summary>
public interface IBackupObjectWriter : IAsyncDisposable
{
    /// <summary>The write-only stream to write the object's bytes to.</summary>
    Stream Content { get; }

    /// <summary>Makes the written bytes visible under the name, atomically. Fails if the name exists.</summary>
    Task<StoredObjectInfo> CommitAsync(CancellationToken cancellationToken = default);
}

/// <summary>Options of one write.</summary>
public sealed record BackupObjectWriteOptions
{
    /// <summary>MIME type recorded with the object.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>Tags set at commit (cluster, revision, verified...).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Until when the object must not be deleted or overwritten; <see langword="null"/> for the store's default.</summary>
    public DateTimeOffset? RetainUntil { get; init; }

    /// <summary>When true, a store that cannot enforce <see cref="RetainUntil"/> fails the write instead of warning.</summary>
    public bool RequireImmutability { get; init; }
}

/// <summary>Properties of a committed object.</summary>
public sealed record StoredObjectInfo(string Name, long Length, DateTimeOffset LastModified)
{
    /// <summary>Until when the object is immutable, when the store knows it.</summary>
    public DateTimeOffset? RetainUntil { get; init; }

    /// <summary>An opaque version marker (ETag), when the store has one.</summary>
    public string? ETag { get; init; }
}
