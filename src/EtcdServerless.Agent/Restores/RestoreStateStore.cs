using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.Restores;

/// <summary>
/// Per-restore state as a small JSON file next to the data dir (<c>&lt;dataDir&gt;.restore-&lt;id&gt;.json</c>), written
/// atomically (temp file + rename) so a crashed agent resumes where it was and repeated calls stay idempotent.
/// </summary>
internal sealed class RestoreStateStore(string dataDir, string? memoryDirectory = null)
{
    private readonly string _base = Path.GetFullPath(dataDir).TrimEnd('/');

    // Several agents may share a host (and its tmpfs): the data dir's path, hashed, keeps their files apart.
    private readonly string? _memoryBase = memoryDirectory is null
        ? null
        : Path.Combine(memoryDirectory, "etcd-backup-agent." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDir).TrimEnd('/'))))[..16]);

    public string DataDir => _base;

    public string StatePath(string restoreId) => $"{_base}.restore-{restoreId}.json";

    /// <summary>Where the received snapshot of <paramref name="restoreId"/> is: in the memory folder when it was staged there.</summary>
    public string StagingPath(string restoreId) =>
        MemoryStagingPath(restoreId) is { } memory && File.Exists(memory) ? memory : DiskStagingPath(restoreId);

    /// <summary>The staging file beside the data dir.</summary>
    public string DiskStagingPath(string restoreId) => $"{_base}.restore-{restoreId}.snap";

    /// <summary>The staging file in the memory folder, null when none is configured.</summary>
    public string? MemoryStagingPath(string restoreId) => _memoryBase is null ? null : $"{_memoryBase}.restore-{restoreId}.snap";

    /// <summary>Deletes the staging file of <paramref name="restoreId"/> wherever it is.</summary>
    public void DeleteStaging(string restoreId)
    {
        File.Delete(DiskStagingPath(restoreId));
        if (MemoryStagingPath(restoreId) is { } memory && File.Exists(memory))
        {
            File.Delete(memory);
        }
    }

    public string RestoreDir(string restoreId) => $"{_base}.restore-{restoreId}";

    public string BeforeDir(string restoreId) => $"{_base}.before-{restoreId}";

    public string RolledBackDir(string restoreId) => $"{_base}.rolledback-{restoreId}";

    public async Task<AgentRestoreStatus?> LoadAsync(string restoreId, CancellationToken cancellationToken = default)
    {
        var path = StatePath(restoreId);
        if (!File.Exists(path))
        {
            return null;
        }

        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            return await JsonSerializer.DeserializeAsync<AgentRestoreStatus>(stream, AgentProtocol.Json, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException($"Restore state file {path} is empty.");
        }
    }

    public async Task SaveAsync(AgentRestoreStatus status, CancellationToken cancellationToken = default)
    {
        var path = StatePath(status.RestoreId);
        var temp = path + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = new FileStream(temp, FileMode.Create, FileAccess.Write);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, status, AgentProtocol.Json, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
