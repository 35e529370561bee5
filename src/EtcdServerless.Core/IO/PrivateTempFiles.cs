namespace EtcdServerless.Core.IO;

/// <summary>
/// Scratch files that may hold plaintext snapshot data (bbolt inspection needs random access, so a stream is
/// not enough there). Each lives in a folder only this user can enter (0700, owned by us: changing its mode
/// fails otherwise), is created 0600, and on Unix is unlinked the moment it is opened, so no exit path, not
/// even <c>kill -9</c>, leaves a readable copy behind: the kernel frees the blocks with the last descriptor.
/// Files a crashed process could still have left (a platform without early unlink, the instant between create
/// and unlink) are swept by the next <see cref="Create"/> once no live process holds them.
/// </summary>
internal static class PrivateTempFiles
{
    /// <summary>The private folder's name under the temp root.</summary>
    public const string FolderName = "etcd-backup-scratch";

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The private folder under <paramref name="tempRoot"/> (default: the system temp folder), created 0700 if needed.</summary>
    /// <exception cref="UnauthorizedAccessException">The folder exists but is not ours, or is a link.</exception>
    public static string EnsureFolder(string? tempRoot = null)
    {
        var folder = Path.Combine(Path.GetFullPath(tempRoot ?? Path.GetTempPath()), FolderName);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return folder;
        }

        var info = Directory.CreateDirectory(folder, FolderMode);
        if (info.LinkTarget is not null)
        {
            throw new UnauthorizedAccessException($"Scratch folder '{folder}' is a symbolic link; refusing to write snapshot data through it.");
        }

        // chmod succeeds only for the owner (or root): a folder someone else pre-created in a shared /tmp fails here.
        File.SetUnixFileMode(folder, FolderMode);
        return folder;
    }

    /// <summary>
    /// Creates a scratch file (read/write, exclusive, 0600) in the private folder, already unlinked on Unix and
    /// deleted on close elsewhere. Sweeps leftovers of crashed processes first.
    /// </summary>
    public static FileStream Create(string? tempRoot, string prefix, int bufferSize = 1 << 20)
    {
        var folder = EnsureFolder(tempRoot);
        SweepLeftovers(folder);
        var path = Path.Combine(folder, $"{prefix}-{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
            BufferSize = bufferSize,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode600;
        }

        var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            // Open descriptors keep working on an unlinked file; DeleteOnClose then finds nothing to delete.
            File.Delete(path);
        }

        return stream;
    }

    /// <summary>
    /// Deletes files in the private folder that no live process holds open. A writer holds its file with
    /// <see cref="FileShare.None"/> (an exclusive advisory lock on Unix), so a file that can be opened exclusively
    /// belongs to a process that is gone. Returns how many were removed.
    /// </summary>
    public static int SweepLeftovers(string folder)
    {
        var removed = 0;
        if (!Directory.Exists(folder))
        {
            return 0;
        }

        foreach (var file in Directory.EnumerateFiles(folder))
        {
            if (TryDeleteAbandoned(file))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Deletes <paramref name="path"/> when no live process holds it open exclusively; false when in use or gone.</summary>
    internal static bool TryDeleteAbandoned(string path)
    {
        try
        {
            using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1))
            {
            }

            File.Delete(path);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Held by a live writer, or already gone.
            return false;
        }
    }
}
