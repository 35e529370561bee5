using System.Runtime.InteropServices;

namespace EtcdServerless.Core.Storage;

/// <summary>
/// Moves a file into place only if the destination does not exist, atomically. <see cref="File.Move(string, string, bool)"/>
/// with <c>overwrite: false</c> is not enough on Unix: .NET checks for the destination and then calls
/// <c>rename(2)</c>, which replaces, so two racing writers can both "win". <c>link(2)</c> fails with EEXIST
/// instead, which makes the write-once commit a single atomic step.
/// </summary>
internal static partial class NoReplaceFileMove
{
    private const int EEXIST = 17;

    // Filesystems without hard links (FAT, some FUSE mounts) answer these; the runtime's move is the fallback there.
    private static readonly HashSet<int> s_linkUnsupported = [1 /* EPERM */, 31 /* EMLINK */, 38 /* ENOSYS */, 95 /* EOPNOTSUPP */];

    /// <summary>Moves <paramref name="source"/> to <paramref name="destination"/>; throws <see cref="IOException"/> if it exists.</summary>
    public static void Move(string source, string destination)
    {
        if (OperatingSystem.IsWindows())
        {
            // MoveFileEx without MOVEFILE_REPLACE_EXISTING is already an atomic no-replace move.
            File.Move(source, destination, overwrite: false);
            return;
        }

        if (Link(source, destination) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (s_linkUnsupported.Contains(errno))
            {
                File.Move(source, destination, overwrite: false);
                return;
            }

            throw errno == EEXIST
                ? new IOException($"'{destination}' already exists.")
                : new IOException($"Cannot link '{source}' to '{destination}' (errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}).");
        }

        File.Delete(source);
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string oldPath, string newPath);
}
