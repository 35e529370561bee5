using Microsoft.Extensions.Logging;

namespace EtcdServerless.Core.Drills;

/// <summary>
/// The private scratch folder of one drill (0700): it holds the cluster's plaintext and a restored data dir for the
/// drill's duration, and is removed on every exit path.
/// </summary>
internal static class DrillScratch
{
    /// <summary>Prefix of scratch folders, so leftovers of a killed process can be recognised.</summary>
    public const string FolderPrefix = "etcd-backup-drill-";

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates a new 0700 folder under <paramref name="root"/> (created 0700 too when missing).</summary>
    public static string Create(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        CreatePrivate(root);
        var folder = Path.Combine(root, $"{FolderPrefix}{Guid.NewGuid():N}");
        CreatePrivate(folder);
        return folder;
    }

    /// <summary>Creates <paramref name="folder"/> readable by this user only (an existing folder keeps its mode).</summary>
    public static void CreatePrivate(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, FolderMode);
        }
    }

    /// <summary>Removes the folder and everything in it; a folder that cannot be removed is logged and the error rethrown.</summary>
    public static void Delete(string folder, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.DrillScratchNotRemoved(folder, ex.Message);
            throw;
        }
    }
}
