using System.Text.Json;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.Restores;

/// <summary>
/// Per-restore state as a small JSON file next to the data dir (<c>&lt;dataDir&gt;.restore-&lt;id&gt;.json</c>), written
/// atomically (temp file + rename) so a crashed agent resumes where it was and repeated calls stay idempotent.
/// </summary>
internal sealed class RestoreStateStore(string dataDir)
{
    private readonly string _base = Path.GetFullPath(dataDir).TrimEnd('/');

    public string DataDir => _base;

    public string StatePath(string restoreId) => $"{_base}.restore-{restoreId}.json";

    public string StagingPath(string restoreId) => $"{_base}.restore-{restoreId}.snap";

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
