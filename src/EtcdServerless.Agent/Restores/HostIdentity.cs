namespace EtcdServerless.Agent.Restores;

/// <summary>
/// Which machine this agent runs on, for the restore's distribution plan: the kernel's boot id, which every process and
/// container under one kernel shares and which differs between machines (and between boots, which does not matter
/// for a plan made seconds before it is used).
/// </summary>
internal static class HostIdentity
{
    private const string BootIdPath = "/proc/sys/kernel/random/boot_id";

    private static readonly Lazy<string?> s_bootId = new(() => Read(BootIdPath));

    /// <summary>This kernel's boot id, or null where there is none (not Linux, or /proc not mounted).</summary>
    public static string? BootId() => s_bootId.Value;

    /// <summary>The first line of <paramref name="path"/>, trimmed; null when it cannot be read or is empty.</summary>
    internal static string? Read(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
