using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace EtcdServerless.Core.Keys;

/// <summary>
/// The embedded key store: versioned 256-bit KEKs as files in a directory that must not be the backup store
/// (keys never live beside the data). Layout: <c>{dir}/{keyId}/{version}.key</c>, one JSON file per version
/// (version, created, base64 key), mode 0600 in 0700 directories. Versions are 1, 2, 3...; the highest is
/// current; a rotation only adds a file, so old backups stay readable.
/// </summary>
internal sealed class LocalKeyStore : IKeyStore
{
    /// <summary>Key id used when the configuration names none.</summary>
    public const string DefaultKeyId = "etcd-backup-kek";

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private readonly string _keyId;
    private readonly TimeProvider _timeProvider;

    public LocalKeyStore(string directory, string keyId = DefaultKeyId, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        if (keyId.IndexOfAny(['/', '\\']) >= 0 || keyId.StartsWith('.'))
        {
            throw new ArgumentException($"Invalid key id '{keyId}'.", nameof(keyId));
        }

        Directory = Path.GetFullPath(directory);
        _keyId = keyId;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The key directory (absolute).</summary>
    public string Directory { get; }

    /// <inheritdoc/>
    public string Description => new Uri(Directory).AbsoluteUri;

    private string KeyDirectory => Path.Combine(Directory, _keyId);

    /// <summary>
    /// Refuses a key directory inside the store directory (or the other way round, or the same): a stolen copy
    /// of the store must not carry the keys that open it.
    /// </summary>
    public static void EnsureSeparate(string keyDirectory, string storeDirectory)
    {
        var keys = RealPath(keyDirectory);
        var store = RealPath(storeDirectory);
        if (IsSameOrInside(keys, store) || IsSameOrInside(store, keys))
        {
            throw new InvalidOperationException(
                $"The key directory '{keys}' and the store directory '{store}' overlap; keep keys outside the backup store.");
        }
    }

    /// <inheritdoc/>
    public async Task<KeyEncryptionKey> GetCurrentAsync(CancellationToken cancellationToken = default)
    {
        var versions = ListVersionNumbers();
        if (versions.Count == 0)
        {
            throw new KeyNotFoundException($"No key-encryption key '{_keyId}' in {Directory}; run `etcd-backup keys init` first.");
        }

        return await LoadAsync(versions[^1], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<KeyEncryptionKey> GetAsync(string keyId, string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentException.ThrowIfNullOrEmpty(version);
        if (!string.Equals(keyId, _keyId, StringComparison.Ordinal))
        {
            throw new KeyNotFoundException($"KEK '{keyId}' is not held by this key store ({Directory} holds '{_keyId}').");
        }

        if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
        {
            throw new KeyNotFoundException($"KEK version {keyId}/{version} not found in {Directory}.");
        }

        return await LoadAsync(number, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<KeyEncryptionKey> InitializeAsync(CancellationToken cancellationToken = default)
    {
        // Concurrent creators (threads or processes) are serialised by the no-replace move in CreateVersionAsync.
        var versions = ListVersionNumbers();
        return versions.Count > 0
            ? await LoadAsync(versions[^1], cancellationToken).ConfigureAwait(false)
            : await CreateVersionAsync(1, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<KeyEncryptionKey> RotateAsync(CancellationToken cancellationToken = default)
    {
        var versions = ListVersionNumbers();
        if (versions.Count == 0)
        {
            throw new KeyNotFoundException($"No key-encryption key '{_keyId}' in {Directory} to rotate; run `etcd-backup keys init` first.");
        }

        return await CreateVersionAsync(versions[^1] + 1, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<KeyVersionInfo>> ListVersionsAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<KeyVersionInfo>();
        foreach (var number in ListVersionNumbers())
        {
            var file = await ReadFileAsync(number, cancellationToken).ConfigureAwait(false);
            result.Add(new KeyVersionInfo(_keyId, file.Version, file.Created));
        }

        return result;
    }

    private List<int> ListVersionNumbers()
    {
        if (!System.IO.Directory.Exists(KeyDirectory))
        {
            return [];
        }

        var versions = new List<int>();
        foreach (var path in System.IO.Directory.EnumerateFiles(KeyDirectory, "*.key"))
        {
            if (int.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
            {
                versions.Add(number);
            }
        }

        versions.Sort();
        return versions;
    }

    private string VersionPath(int number) => Path.Combine(KeyDirectory, number.ToString(CultureInfo.InvariantCulture) + ".key");

    private async Task<KeyEncryptionKey> LoadAsync(int number, CancellationToken cancellationToken)
    {
        var file = await ReadFileAsync(number, cancellationToken).ConfigureAwait(false);
        var material = Convert.FromBase64String(file.Key);
        try
        {
            return new KeyEncryptionKey(_keyId, file.Version, material);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    private async Task<KeyFile> ReadFileAsync(int number, CancellationToken cancellationToken)
    {
        var path = VersionPath(number);
        if (!File.Exists(path))
        {
            throw new KeyNotFoundException($"KEK version {_keyId}/{number} not found in {Directory}.");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOther) != 0)
        {
            throw new UnauthorizedAccessException($"Key file {path} is accessible by group or others; run `chmod 600 {path}`.");
        }

        try
        {
            var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            var file = JsonSerializer.Deserialize(bytes, KeysJsonContext.Default.KeyFile)
                ?? throw new InvalidDataException($"Key file {path} is empty.");
            if (!string.Equals(file.Version, number.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                || file.Key.Length == 0)
            {
                throw new InvalidDataException($"Key file {path} does not hold version {number}.");
            }

            return file;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Key file {path} is not valid JSON.", ex);
        }
    }

    private async Task<KeyEncryptionKey> CreateVersionAsync(int number, CancellationToken cancellationToken)
    {
        CreatePrivateDirectory(Directory);
        CreatePrivateDirectory(KeyDirectory);
        // File.Move(overwrite: false) checks then renames, and rename replaces: two rotations could both pass the
        // check and the second would overwrite a key already handed out. An exclusive lock on a file in the key folder
        // (not among the versions; flock on Unix, released when its holder exits) makes the check and the move one step.
        using var rotation = LockRotation();
        if (File.Exists(VersionPath(number)))
        {
            throw new InvalidOperationException($"KEK version {_keyId}/{number} was created concurrently; retry.");
        }

        var material = RandomNumberGenerator.GetBytes(KeyEncryptionKey.KeySizeBytes);
        var version = number.ToString(CultureInfo.InvariantCulture);
        var temp = Path.Combine(KeyDirectory, $".{version}.{Guid.NewGuid():N}.tmp");
        try
        {
            var file = new KeyFile { Version = version, Created = _timeProvider.GetUtcNow(), Key = Convert.ToBase64String(material) };
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.WriteThrough };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode600;
            }

            var stream = new FileStream(temp, options);
            await using (stream.ConfigureAwait(false))
            {
                await JsonSerializer.SerializeAsync(stream, file, KeysJsonContext.Default.KeyFile, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            // No-replace move: a concurrent rotation by another process fails here instead of overwriting a key.
            File.Move(temp, VersionPath(number), overwrite: false);
            return new KeyEncryptionKey(_keyId, version, material);
        }
        catch (IOException) when (File.Exists(VersionPath(number)))
        {
            throw new InvalidOperationException($"KEK version {_keyId}/{number} was created concurrently; retry.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
            File.Delete(temp);
        }
    }

    private FileStream LockRotation()
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        try
        {
            return new FileStream(Path.Combine(Directory, $".{_keyId}.rotation.lock"), options);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"another process is creating a version of KEK {_keyId}; retry.", ex);
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
            return;
        }

        if (!System.IO.Directory.Exists(path))
        {
            System.IO.Directory.CreateDirectory(path, DirectoryMode);
        }

        File.SetUnixFileMode(path, DirectoryMode);
    }

    private static string RealPath(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var info = new DirectoryInfo(full);
        if (info.Exists && info.LinkTarget is not null)
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            if (target is not null)
            {
                return Path.TrimEndingDirectorySeparator(target.FullName);
            }
        }

        // Resolve a symlinked parent too, so /link/keys and /real/keys compare equal.
        var parent = Path.GetDirectoryName(full);
        return parent is null || string.Equals(parent, full, StringComparison.Ordinal)
            ? full
            : Path.Combine(RealPath(parent), Path.GetFileName(full));
    }

    private static bool IsSameOrInside(string path, string directory) =>
        string.Equals(path, directory, StringComparison.Ordinal)
        || path.StartsWith(directory + Path.DirectorySeparatorChar, StringComparison.Ordinal)
        || string.Equals(directory, Path.GetPathRoot(directory), StringComparison.Ordinal);
}
