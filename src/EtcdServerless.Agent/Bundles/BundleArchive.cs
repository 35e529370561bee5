using System.Formats.Tar;
using System.Runtime.InteropServices;
using EtcdServerless.Agent.Configuration;
using EtcdServerless.Agent.Restores;

namespace EtcdServerless.Agent.Bundles;

/// <summary>
/// The control-plane bundle as a tar stream (PAX: modes, owners, mtimes, long names). Collecting never follows a
/// symbolic link (a link is stored as a link, so nothing outside the configured roots is read); extracting writes only
/// inside the configured roots, refuses links that point out of them, never writes through a link, and checks the whole
/// archive before it writes anything. File contents are never logged: they include the encryption configuration.
/// </summary>
internal static partial class BundleArchive
{
    /// <summary>The configured roots as normalized absolute paths; throws naming the key when one is not absolute.</summary>
    public static IReadOnlyList<string> Roots(BundleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var roots = new List<string>();
        foreach (var path in options.Paths.Where(p => !string.IsNullOrWhiteSpace(p)))
        {
            if (!Path.IsPathFullyQualified(path))
            {
                throw new ArgumentException($"Agent:Bundle:Paths must hold absolute paths, got '{path}'");
            }

            var full = Path.GetFullPath(path);
            roots.Add(full.Length > 1 ? full.TrimEnd('/') : full);
        }

        return roots;
    }

    /// <summary>Writes every root (recursively, links as links) to <paramref name="output"/>; returns the entry count.</summary>
    public static async Task<int> WriteAsync(IReadOnlyList<string> roots, long maxBytes, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await using (writer.ConfigureAwait(false))
        {
            var state = new WriteState(writer, maxBytes);
            foreach (var root in roots)
            {
                var info = new FileInfo(root);
                if (info.LinkTarget is null && !info.Exists && !Directory.Exists(root))
                {
                    // A path absent on this node (no encryption configuration yet, say) is not an error.
                    continue;
                }

                await AddAsync(state, root, cancellationToken).ConfigureAwait(false);
            }

            return state.Entries;
        }
    }

    /// <summary>
    /// Checks a staged archive completely (names, types, link targets, size), then writes it into place: each file
    /// through a 0600 temp file renamed over the old one, mode and owner as recorded, directory times last.
    /// </summary>
    public static async Task<int> ExtractAsync(FileStream archive, IReadOnlyList<string> roots, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roots);
        if (roots.Count == 0)
        {
            throw AgentRequestException.Conflict("this agent has no Agent:Bundle:Paths: it writes a bundle nowhere");
        }

        // Pass 1: nothing is written unless every entry is acceptable.
        long total = 0;
        await ForEachEntryAsync(archive, entry =>
        {
            var target = Target(entry, roots);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                    total += entry.Length;
                    if (total > maxBytes)
                    {
                        throw AgentRequestException.BadRequest($"the bundle holds more than Agent:Bundle:MaxBytes ({maxBytes}) bytes");
                    }

                    break;
                case TarEntryType.SymbolicLink:
                    var resolved = Path.GetFullPath(entry.LinkName, Path.GetDirectoryName(target)!);
                    if (!Within(resolved, roots))
                    {
                        throw AgentRequestException.BadRequest($"bundle entry '{entry.Name}' is a link to {entry.LinkName}, outside Agent:Bundle:Paths: refused");
                    }

                    break;
                default:
                    throw AgentRequestException.BadRequest($"bundle entry '{entry.Name}' is a {entry.EntryType}: only files, directories and links are restored");
            }

            return Task.CompletedTask;
        }, cancellationToken).ConfigureAwait(false);

        // Pass 2: write.
        var directories = new List<(string Path, DateTimeOffset Modified)>();
        var count = 0;
        await ForEachEntryAsync(archive, async entry =>
        {
            var target = Target(entry, roots);
            RefuseLinkedParents(target, roots);
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    if (new FileInfo(target).LinkTarget is not null || File.Exists(target))
                    {
                        throw AgentRequestException.Conflict($"{target} exists and is not a directory; refusing to replace it with one");
                    }

                    Directory.CreateDirectory(target);
                    SetMode(target, entry.Mode);
                    SetOwner(target, entry);
                    directories.Add((target, entry.ModificationTime));
                    break;
                case TarEntryType.SymbolicLink:
                    if (Directory.Exists(target) && new FileInfo(target).LinkTarget is null)
                    {
                        throw AgentRequestException.Conflict($"{target} is a directory; refusing to replace it with a link");
                    }

                    // Made beside the target and renamed over it: the old entry is replaced in one step, never followed.
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    var link = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.bundle-{Guid.NewGuid():N}");
                    File.CreateSymbolicLink(link, entry.LinkName);
                    SetOwner(link, entry);
                    File.Move(link, target, overwrite: true);
                    break;
                default:
                    await WriteFileAsync(entry, target, cancellationToken).ConfigureAwait(false);
                    break;
            }

            count++;
        }, cancellationToken).ConfigureAwait(false);

        // Directory times last: writing their children changed them.
        foreach (var (path, modified) in Enumerable.Reverse(directories))
        {
            Directory.SetLastWriteTimeUtc(path, modified.UtcDateTime);
        }

        return count;
    }

    private static async Task AddAsync(WriteState state, string path, CancellationToken cancellationToken)
    {
        var info = new FileInfo(path);
        var isLink = info.LinkTarget is not null;
        if (!isLink && info.Exists)
        {
            state.Bytes += info.Length;
            if (state.Bytes > state.MaxBytes)
            {
                throw new InvalidDataException($"the bundle exceeds Agent:Bundle:MaxBytes ({state.MaxBytes} bytes) at {path}");
            }
        }

        // TarWriter reads the entry with lstat: mode, owner, times, and a link as a link.
        await state.Writer.WriteEntryAsync(path, path.TrimStart('/'), cancellationToken).ConfigureAwait(false);
        state.Entries++;
        if (!isLink && Directory.Exists(path))
        {
            foreach (var child in Directory.EnumerateFileSystemEntries(path).Order(StringComparer.Ordinal))
            {
                await AddAsync(state, child, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task WriteFileAsync(TarEntry entry, string target, CancellationToken cancellationToken)
    {
        if (Directory.Exists(target) && new FileInfo(target).LinkTarget is null)
        {
            throw AgentRequestException.Conflict($"{target} is a directory; refusing to replace it with a file");
        }

        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.bundle-{Guid.NewGuid():N}");
        try
        {
            // 0600 while written whatever the file is (encryption configuration, keys): the recorded mode comes after.
            var stream = new FileStream(temp, PrivateCreate());
            await using (stream.ConfigureAwait(false))
            {
                if (entry.DataStream is { } data)
                {
                    await data.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
                }

                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            SetMode(temp, entry.Mode);
            SetOwner(temp, entry);
            File.SetLastWriteTimeUtc(temp, entry.ModificationTime.UtcDateTime);

            // A link at the target is replaced, never written through.
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static string Target(TarEntry entry, IReadOnlyList<string> roots)
    {
        var name = entry.Name;
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw AgentRequestException.BadRequest("a bundle entry has an empty or invalid name");
        }

        var full = Path.GetFullPath("/" + name.TrimStart('/'));
        full = full.Length > 1 ? full.TrimEnd('/') : full;
        return Within(full, roots)
            ? full
            : throw AgentRequestException.BadRequest($"bundle entry '{name}' lies outside Agent:Bundle:Paths ({string.Join(", ", roots)}): refused");
    }

    private static bool Within(string path, IReadOnlyList<string> roots) =>
        roots.Any(r => string.Equals(path, r, StringComparison.Ordinal) || path.StartsWith(r == "/" ? r : r + "/", StringComparison.Ordinal));

    /// <summary>No component between the root and the target may be a link: a write must not follow one out of the roots.</summary>
    private static void RefuseLinkedParents(string target, IReadOnlyList<string> roots)
    {
        var root = roots.Where(r => Within(target, [r])).OrderByDescending(r => r.Length).First();
        var dir = Path.GetDirectoryName(target);
        while (dir is not null && dir.Length > root.Length)
        {
            if (new FileInfo(dir).LinkTarget is not null)
            {
                throw AgentRequestException.Conflict($"{dir} is a symbolic link; refusing to write {target} through it");
            }

            dir = Path.GetDirectoryName(dir);
        }
    }

    private static async Task ForEachEntryAsync(FileStream archive, Func<TarEntry, Task> body, CancellationToken cancellationToken)
    {
        archive.Position = 0;
        {
            var reader = new TarReader(archive, leaveOpen: true);
            await using (reader.ConfigureAwait(false))
            {
                try
                {
                    while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                    {
                        await body(entry).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException)
                {
                    throw AgentRequestException.BadRequest($"the bundle is not a readable tar archive: {ex.Message}");
                }
            }
        }
    }

    private static FileStreamOptions PrivateCreate()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static void SetOwner(string path, TarEntry entry)
    {
        // Owners can only be given away by root; elsewhere files belong to the agent's user.
        if (entry is PosixTarEntry posix && Environment.IsPrivilegedProcess && LChown(path, posix.Uid, posix.Gid) != 0)
        {
            throw new IOException($"lchown {path} to {posix.Uid}:{posix.Gid} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LChown(string path, int uid, int gid);

    private sealed class WriteState(TarWriter writer, long maxBytes)
    {
        public TarWriter Writer { get; } = writer;

        public long MaxBytes { get; } = maxBytes;

        public long Bytes { get; set; }

        public int Entries { get; set; }
    }
}
