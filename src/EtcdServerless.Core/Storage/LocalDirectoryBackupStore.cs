using System.Runtime.CompilerServices;
using System.Text.Json;

namespace EtcdServerless.Core.Storage;

/// <summary>
/// The embedded store: a directory with WORM rules enforced by this class.
/// </summary>
/// <remarks>
/// Layout: the object's bytes at <c>{root}/{name}</c> (read-only file), its metadata (retain-until, content
/// type) in the hidden sidecar <c>.{file}.meta.json</c> next to it, its tags in <c>.{file}.tags.json</c>, and
/// writes in progress under <c>{root}/.staging/</c>. Object names never start a segment with '.', so hidden
/// files are never listed. A write is staged, fsynced and then moved into place with no-replace semantics
/// (<see cref="NoReplaceFileMove"/>: a hard link + unlink on
/// Unix): of two racing writers exactly one wins. The move is the commit point; the sidecars follow it. After
/// a crash between the two, an object without metadata counts as retained until its modification time plus
/// the default retention (the conservative reading, like a container-level policy), and tags are empty.
/// Staging leftovers are never listed and are removed by <see cref="CleanupStagingAsync"/>.
/// </remarks>
internal sealed class LocalDirectoryBackupStore : IBackupStore
{
    /// <summary>Hidden folder of writes in progress.</summary>
    public const string StagingDirectoryName = ".staging";

    private const int MaxTags = 10;

    private readonly TimeProvider _timeProvider;
    private bool _rootExisted;

    public LocalDirectoryBackupStore(string root, TimeSpan? defaultRetention = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        DefaultRetention = defaultRetention ?? TimeSpan.FromDays(7);
        if (DefaultRetention < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(defaultRetention), "Retention cannot be negative.");
        }

        _timeProvider = timeProvider ?? TimeProvider.System;
        // Remembered for InitializeAsync: the folder is created here already, so every writer finds it.
        _rootExisted = Directory.Exists(Root);
        Directory.CreateDirectory(Root);
        EnsureStagingDirectory();
    }

    /// <summary>The store's root directory (absolute).</summary>
    public string Root { get; }

    /// <summary>Retention applied when a write names none (and to objects whose metadata was lost).</summary>
    public TimeSpan DefaultRetention { get; }

    /// <inheritdoc/>
    public string Description => new Uri(Root).AbsoluteUri;

    private string StagingDirectory => Path.Combine(Root, StagingDirectoryName);

    /// <inheritdoc/>
    /// <remarks>
    /// Checks that the folder takes writes (a probe file in the staging folder, removed again). Retention is this
    /// store's own rule (read-only files, deletes refused before expiry): it protects against this program, not
    /// against someone with write access to the folder, which the result says.
    /// </remarks>
    public async Task<StoreInitResult> InitializeAsync(CancellationToken cancellationToken = default)
    {
        var probe = Path.Combine(StagingDirectory, $"init-{Guid.NewGuid():N}.probe");
        try
        {
            Directory.CreateDirectory(StagingDirectory);
            await File.WriteAllBytesAsync(probe, [], cancellationToken).ConfigureAwait(false);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BackupStoreException($"The store folder {Root} does not take writes: {ex.Message}", ex);
        }

        var warnings = new List<string>();
        string immutability;
        if (DefaultRetention > TimeSpan.Zero)
        {
            immutability = $"default retention {FormatDays(DefaultRetention)} enforced by this store (read-only files, deletes refused until expiry)";
            warnings.Add("a local folder is not WORM storage: anyone with write access to it can still delete backups; use Azure Blob with an immutability policy for tamper-proof retention");
        }
        else
        {
            immutability = "none (retention 0 days)";
            warnings.Add("no immutability: backups in this folder can be deleted at any time; set Store:ImmutabilityDays");
        }

        var created = !_rootExisted;
        _rootExisted = true;
        return new StoreInitResult(Description, created, immutability, Protected: false) { Warnings = warnings };
    }

    private static string FormatDays(TimeSpan span) =>
        span.TotalDays == Math.Floor(span.TotalDays)
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{span.TotalDays:0} days")
            : span.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public Task<IBackupObjectWriter> OpenWriteAsync(string name, BackupObjectWriteOptions options, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        ArgumentNullException.ThrowIfNull(options);
        ValidateTags(options.Tags);
        cancellationToken.ThrowIfCancellationRequested();
        if (File.Exists(ContentPath(name)))
        {
            throw new BackupObjectExistsException($"Object '{name}' already exists in {Description} (write-once store).");
        }

        var retainUntil = options.RetainUntil ?? _timeProvider.GetUtcNow() + DefaultRetention;
        var stagingPath = Path.Combine(StagingDirectory, $"{Guid.NewGuid():N}.part");
        try
        {
            EnsureStagingDirectory();
            var stream = new FileStream(stagingPath, StagingFileOptions(FileAccess.Write, FileOptions.Asynchronous, 0));
            return Task.FromResult<IBackupObjectWriter>(new Writer(this, name, stagingPath, stream, options, retainUntil));
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot stage a write of '{name}' in {Description}.", ex);
        }
    }

    /// <inheritdoc/>
    public Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "Length cannot be negative.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        FileStream stream;
        try
        {
            stream = new FileStream(ContentPath(name), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.", ex);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot read '{name}' from {Description}.", ex);
        }

        if (offset > 0)
        {
            stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        }

        return Task.FromResult<Stream>(length is { } n ? new BoundedReadStream(stream, n) : stream);
    }

    /// <inheritdoc/>
    public async Task<StoredObjectInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        var file = new FileInfo(ContentPath(name));
        return file.Exists ? await DescribeAsync(name, file, cancellationToken).ConfigureAwait(false) : null;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<StoredObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        BackupObjectNames.ValidatePrefix(prefix);
        var slash = prefix.LastIndexOf('/');
        var startName = slash < 0 ? "" : prefix[..slash];
        var startDirectory = startName.Length == 0 ? Root : Path.Combine(Root, startName.Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(startDirectory))
        {
            yield break;
        }

        await foreach (var info in ListDirectoryAsync(startDirectory, startName, prefix, cancellationToken).ConfigureAwait(false))
        {
            yield return info;
        }
    }

    // Depth-first with entries ordered as their names would sort ("dir/" vs "dir.x"), so objects come out in
    // name order without reading the whole tree first. Depth is bounded by the number of name segments.
    private async IAsyncEnumerable<StoredObjectInfo> ListDirectoryAsync(
        string directory, string directoryName, string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var entries = new List<(string SortKey, string Name, FileSystemInfo Entry)>();
        try
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith('.') || entry.LinkTarget is not null)
                {
                    continue;
                }

                var name = directoryName.Length == 0 ? entry.Name : directoryName + "/" + entry.Name;
                var sortKey = entry is DirectoryInfo ? name + "/" : name;
                if (sortKey.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(sortKey, StringComparison.Ordinal))
                {
                    entries.Add((sortKey, name, entry));
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Removed while listing.
            yield break;
        }

        entries.Sort((a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        foreach (var (_, name, entry) in entries)
        {
            if (entry is DirectoryInfo)
            {
                await foreach (var info in ListDirectoryAsync(entry.FullName, name, prefix, cancellationToken).ConfigureAwait(false))
                {
                    yield return info;
                }
            }
            else if (name.StartsWith(prefix, StringComparison.Ordinal) && BackupObjectNames.IsValid(name))
            {
                var info = await DescribeAsync(name, (FileInfo)entry, cancellationToken).ConfigureAwait(false);
                if (info is not null)
                {
                    yield return info;
                }
            }
        }
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        var file = new FileInfo(ContentPath(name));
        var info = file.Exists ? await DescribeAsync(name, file, cancellationToken).ConfigureAwait(false) : null;
        if (info is null)
        {
            throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
        }

        if (info.RetainUntil is { } until && until > _timeProvider.GetUtcNow())
        {
            throw new BackupObjectImmutableException($"Object '{name}' is immutable until {until:O}.");
        }

        try
        {
            File.Delete(file.FullName);
            File.Delete(SidecarPath(name, MetaSuffix));
            File.Delete(SidecarPath(name, TagsSuffix));
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot delete '{name}' from {Description}.", ex);
        }
    }

    /// <inheritdoc/>
    public async Task SetTagsAsync(string name, IReadOnlyDictionary<string, string> tags, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        ArgumentNullException.ThrowIfNull(tags);
        ValidateTags(tags);
        if (!File.Exists(ContentPath(name)))
        {
            throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
        }

        var copy = new SortedDictionary<string, string>(tags.ToDictionary(), StringComparer.Ordinal);
        await WriteSidecarAsync(name, TagsSuffix, JsonSerializer.SerializeToUtf8Bytes(copy, StorageJsonContext.Default.SortedDictionaryStringString), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyDictionary<string, string>> GetTagsAsync(string name, CancellationToken cancellationToken = default)
    {
        BackupObjectNames.Validate(name);
        if (!File.Exists(ContentPath(name)))
        {
            throw new BackupObjectNotFoundException($"Object '{name}' not found in {Description}.");
        }

        var bytes = await ReadSidecarAsync(name, TagsSuffix, cancellationToken).ConfigureAwait(false);
        if (bytes is null)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            return JsonSerializer.Deserialize(bytes, StorageJsonContext.Default.SortedDictionaryStringString) ?? [];
        }
        catch (JsonException ex)
        {
            throw new BackupStoreException($"Tags of '{name}' in {Description} are unreadable.", new InvalidDataException(ex.Message, ex));
        }
    }

    /// <summary>
    /// Deletes staged writes left by crashed or abandoned writers: files at least <paramref name="olderThan"/> old
    /// that no live writer holds (a writer keeps its staging file open exclusively, an advisory lock on Unix, so
    /// a file that opens exclusively belongs to a process that is gone). Returns how many were removed.
    /// </summary>
    public Task<int> CleanupStagingAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var cutoff = _timeProvider.GetUtcNow() - olderThan;
        var removed = 0;
        if (!Directory.Exists(StagingDirectory))
        {
            return Task.FromResult(0);
        }

        foreach (var file in new DirectoryInfo(StagingDirectory).EnumerateFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (file.LastWriteTimeUtc <= cutoff.UtcDateTime && IO.PrivateTempFiles.TryDeleteAbandoned(file.FullName))
            {
                removed++;
            }
        }

        return Task.FromResult(removed);
    }

    // Staged bytes are partial artifacts: only this user may enter the folder or read them.
    private void EnsureStagingDirectory()
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(StagingDirectory);
            return;
        }

        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(StagingDirectory, mode);
        if ((File.GetUnixFileMode(StagingDirectory) & ~mode) != 0)
        {
            File.SetUnixFileMode(StagingDirectory, mode);
        }
    }

    private static FileStreamOptions StagingFileOptions(FileAccess access, FileOptions options, int bufferSize)
    {
        var result = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = access,
            Share = FileShare.None,
            BufferSize = bufferSize,
            Options = options,
        };
        if (!OperatingSystem.IsWindows())
        {
            result.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return result;
    }

    private const string MetaSuffix = ".meta.json";
    private const string TagsSuffix = ".tags.json";

    private string ContentPath(string name) => Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar));

    private string SidecarPath(string name, string suffix)
    {
        var content = ContentPath(name);
        return Path.Combine(Path.GetDirectoryName(content)!, "." + Path.GetFileName(content) + suffix);
    }

    private async Task<StoredObjectInfo?> DescribeAsync(string name, FileInfo file, CancellationToken cancellationToken)
    {
        file.Refresh();
        if (!file.Exists)
        {
            return null;
        }

        var lastModified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
        DateTimeOffset retainUntil;
        var bytes = await ReadSidecarAsync(name, MetaSuffix, cancellationToken).ConfigureAwait(false);
        LocalObjectMetadata? meta = null;
        if (bytes is not null)
        {
            try
            {
                meta = JsonSerializer.Deserialize(bytes, StorageJsonContext.Default.LocalObjectMetadata);
            }
            catch (JsonException)
            {
                // Unreadable metadata: fall back to the conservative default below.
            }
        }

        retainUntil = meta?.RetainUntil ?? lastModified + DefaultRetention;
        return new StoredObjectInfo(name, file.Length, meta?.Created ?? lastModified)
        {
            RetainUntil = retainUntil,
            ETag = $"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\"",
        };
    }

    private async Task<byte[]?> ReadSidecarAsync(string name, string suffix, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(SidecarPath(name, suffix), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    // Sidecars are replaced atomically (staged, fsynced, renamed over the old one).
    private async Task WriteSidecarAsync(string name, string suffix, byte[] content, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(StagingDirectory, $"{Guid.NewGuid():N}.sidecar");
        try
        {
            var stream = new FileStream(temp, StagingFileOptions(FileAccess.Write, FileOptions.Asynchronous, 4096));
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, SidecarPath(name, suffix), overwrite: true);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot write metadata of '{name}' in {Description}.", ex);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static void ValidateTags(IReadOnlyDictionary<string, string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (tags.Count > MaxTags)
        {
            throw new ArgumentException($"At most {MaxTags} tags per object (the Blob index-tag limit).", nameof(tags));
        }

        foreach (var (key, value) in tags)
        {
            if (key.Length is 0 or > 128 || value is null || value.Length > 256)
            {
                throw new ArgumentException($"Invalid tag '{key}': keys are 1-128 and values 0-256 characters.", nameof(tags));
            }
        }
    }

    private async Task<StoredObjectInfo> CommitAsync(Writer writer, CancellationToken cancellationToken)
    {
        var target = ContentPath(writer.Name);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(writer.StagingPath, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);

            // The commit point: a no-replace move (link + unlink on Unix), so the loser of a race fails here.
            NoReplaceFileMove.Move(writer.StagingPath, target);
        }
        catch (IOException ex) when (File.Exists(target))
        {
            throw new BackupObjectExistsException($"Object '{writer.Name}' already exists in {Description} (write-once store).", ex);
        }
        catch (IOException ex)
        {
            throw new BackupStoreException($"Cannot commit '{writer.Name}' to {Description}.", ex);
        }

        var created = _timeProvider.GetUtcNow();
        var meta = new LocalObjectMetadata
        {
            ContentType = writer.Options.ContentType,
            RetainUntil = writer.RetainUntil,
            Created = created,
        };
        await WriteSidecarAsync(writer.Name, MetaSuffix, JsonSerializer.SerializeToUtf8Bytes(meta, StorageJsonContext.Default.LocalObjectMetadata), cancellationToken)
            .ConfigureAwait(false);

        // Always written (even empty) so tags left by a deleted predecessor of the same name never apply.
        await SetTagsAsync(writer.Name, writer.Options.Tags, cancellationToken).ConfigureAwait(false);
        return (await GetInfoAsync(writer.Name, cancellationToken).ConfigureAwait(false))!;
    }

    private sealed class Writer(LocalDirectoryBackupStore store, string name, string stagingPath, FileStream stream, BackupObjectWriteOptions options, DateTimeOffset retainUntil)
        : IBackupObjectWriter
    {
        private bool _committed;
        private bool _disposed;

        public string Name { get; } = name;

        public string StagingPath { get; } = stagingPath;

        public BackupObjectWriteOptions Options { get; } = options;

        public DateTimeOffset RetainUntil { get; } = retainUntil;

        public Stream Content => stream;

        public async Task<StoredObjectInfo> CommitAsync(CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed)
            {
                throw new InvalidOperationException("The write is already committed.");
            }

            try
            {
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            catch (IOException ex)
            {
                throw new BackupStoreException($"Cannot flush the write of '{Name}'.", ex);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
            try
            {
                var info = await store.CommitAsync(this, cancellationToken).ConfigureAwait(false);
                _committed = true;
                return info;
            }
            finally
            {
                File.Delete(StagingPath);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await stream.DisposeAsync().ConfigureAwait(false);
            if (!_committed)
            {
                File.Delete(StagingPath);
            }
        }
    }
}
