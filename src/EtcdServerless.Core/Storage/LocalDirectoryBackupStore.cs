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
internal sealed partial class LocalDirectoryBackupStore : IBackupStore
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
}
