using System.Globalization;

namespace EtcdServerless.Core.IO;

/// <summary>
/// Whether a memory-backed folder (tmpfs, <c>/dev/shm</c> by default) can take a file of a given size with room to spare
/// for the host: both the folder's free space and the memory this process may still use (the host's MemAvailable, and
/// its cgroup's limit when one is set, because tmpfs pages are charged to the cgroup that writes them) must hold the
/// size plus <see cref="HeadroomBytes"/>. Unknown figures mean no: callers then use the disk.
/// </summary>
internal static class MemoryFolder
{
    /// <summary>The tmpfs used on Linux unless a setting names another.</summary>
    public const string DefaultPath = "/dev/shm";

    /// <summary>Memory left to the host beyond the file.</summary>
    public const long HeadroomBytes = 1L << 30;

    /// <summary>True when <paramref name="bytes"/> fit both figures with <see cref="HeadroomBytes"/> to spare.</summary>
    public static bool Fits(long bytes, long? memoryAvailable, long? folderFree) =>
        memoryAvailable is { } memory && folderFree is { } free && memory - bytes >= HeadroomBytes && free - bytes >= HeadroomBytes;

    /// <summary><see cref="Fits(long, long?, long?)"/> with this host's figures; false off Linux.</summary>
    public static bool Fits(string folder, long bytes) =>
        OperatingSystem.IsLinux() && Fits(bytes, MemoryAvailable(), FreeSpace(folder));

    /// <summary>
    /// What this process may still put in memory: MemAvailable of <paramref name="meminfo"/>, lowered to the room left under
    /// the memory limit of this process's cgroup and of its ancestors (v1 or v2) when one is set. Null when MemAvailable
    /// cannot be read.
    /// </summary>
    public static long? MemoryAvailable(string meminfo = "/proc/meminfo", string procSelfCgroup = "/proc/self/cgroup", string cgroupRoot = "/sys/fs/cgroup")
    {
        var available = MeminfoAvailable(meminfo);
        return available is { } host && CgroupRoom(procSelfCgroup, cgroupRoot) is { } room ? Math.Min(host, room) : available;
    }

    /// <summary>Free space of <paramref name="folder"/>, null when it does not exist or cannot be read.</summary>
    public static long? FreeSpace(string folder)
    {
        try
        {
            return Directory.Exists(folder) ? new DriveInfo(folder).AvailableFreeSpace : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private static long? MeminfoAvailable(string meminfo)
    {
        try
        {
            foreach (var line in File.ReadLines(meminfo))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var parts = line["MemAvailable:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return parts.Length == 2 && parts[1] == "kB" && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb)
                        ? kb * 1024
                        : null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    // The smallest (limit - usage) over this process's memory cgroup and its ancestors; null when none is limited.
    // v2 lines read "0::/path" (memory.max / memory.current), v1 "N:memory:/path" (memory.limit_in_bytes / usage_in_bytes).
    private static long? CgroupRoom(string procSelfCgroup, string cgroupRoot)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(procSelfCgroup);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        long? room = null;
        foreach (var line in lines)
        {
            var fields = line.Split(':', 3);
            if (fields.Length != 3)
            {
                continue;
            }

            var (folder, limitFile, usageFile) = fields[1] switch
            {
                "" when fields[0] == "0" => (cgroupRoot, "memory.max", "memory.current"),
                var controllers when controllers.Split(',').Contains("memory") => (Path.Combine(cgroupRoot, "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"),
                _ => ("", "", ""),
            };
            if (folder.Length == 0)
            {
                continue;
            }

            for (var path = fields[2].TrimEnd('/'); ; path = path[..path.LastIndexOf('/')])
            {
                var dir = folder + path;
                if (ReadBytes(Path.Combine(dir, limitFile)) is { } limit && limit < (1L << 60) && ReadBytes(Path.Combine(dir, usageFile)) is { } usage)
                {
                    room = Math.Min(room ?? long.MaxValue, Math.Max(0, limit - usage));
                }

                if (path.Length == 0)
                {
                    break;
                }
            }
        }

        return room;
    }

    private static long? ReadBytes(string file)
    {
        try
        {
            return File.Exists(file) && long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
