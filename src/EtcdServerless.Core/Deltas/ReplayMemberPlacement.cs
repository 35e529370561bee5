using EtcdServerless.Core.IO;

namespace EtcdServerless.Core.Deltas;

/// <summary>
/// Where the throwaway member of a replay keeps its data dir: in memory (tmpfs, <c>/dev/shm</c>) when the host has room
/// to spare, on disk beside the scratch folder otherwise.
/// </summary>
/// <remarks>
/// Replay is one transaction per revision, and etcd 3.4 flushes its log to disk for each one, so on disk replay runs
/// at about 1,000 revisions/s and in memory at about 1,900/s (docs/benchmarks.md, deltas). The member is thrown away
/// afterwards, so losing it in a crash costs only a rerun. The memory is taken only when both the tmpfs and the
/// host's available memory hold the estimate with <see cref="HeadroomBytes"/> to spare; an agent never does this,
/// because it shares its host with a live member.
/// </remarks>
internal static class ReplayMemberPlacement
{
    /// <summary>The tmpfs used on Linux unless <see cref="MaterializeOptions.MemoryDirectory"/> names another.</summary>
    public const string DefaultMemoryDirectory = MemoryFolder.DefaultPath;

    /// <summary>Memory left to the host beyond the estimate.</summary>
    public const long HeadroomBytes = MemoryFolder.HeadroomBytes;

    /// <summary>
    /// What the member's data dir may grow to: the restored base, the revisions replayed on top (their plaintext,
    /// doubled for the index and the log), and room for the log's preallocated files.
    /// </summary>
    public static long EstimateBytes(long baseSize, long replayBytes) => (2 * baseSize) + (2 * replayBytes) + (256L << 20);

    /// <summary>The folder to put the member's data dir under, or null for the scratch folder on disk.</summary>
    /// <param name="options">The materialization's options (<see cref="MaterializeOptions.MemberInMemory"/>, <see cref="MaterializeOptions.MemoryDirectory"/>).</param>
    /// <param name="estimate">What the data dir may grow to (<see cref="EstimateBytes"/>).</param>
    /// <param name="memoryAvailable">The host's available memory, null when unknown (then: disk).</param>
    /// <param name="memoryFree">Free space of the memory folder, null when it does not exist (then: disk).</param>
    public static string? Choose(MaterializeOptions options, long estimate, long? memoryAvailable, long? memoryFree)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.MemberInMemory)
        {
            return null;
        }

        return MemoryFolder.Fits(estimate, memoryAvailable, memoryFree) ? options.MemoryDirectory ?? DefaultMemoryDirectory : null;
    }

    /// <summary><see cref="Choose(MaterializeOptions, long, long?, long?)"/> with this host's figures.</summary>
    public static string? Choose(MaterializeOptions options, long estimate)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.MemberInMemory || !OperatingSystem.IsLinux())
        {
            return null;
        }

        var folder = options.MemoryDirectory ?? DefaultMemoryDirectory;
        return Choose(options, estimate, MemoryFolder.MemoryAvailable(), MemoryFolder.FreeSpace(folder));
    }
}
