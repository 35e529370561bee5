using System.Text.Json;
using EtcdServerless.Agent.Restores;
using EtcdServerless.Core.Restore;

namespace EtcdServerless.Agent.DataDirs;

/// <summary>
/// The data dirs beside the member's: the live one and the copies restores set aside. Removal takes a name from the
/// list only (never a path), and refuses the live data dir and a copy a restore still under way needs for its rollback.
/// Used by the agent's endpoints (under the restore lock) and by the local <c>data-dirs</c> verb.
/// </summary>
internal sealed class DataDirCatalog(string dataDir)
{
    private const string Before = ".before-";
    private const string RolledBack = ".rolledback-";

    private readonly RestoreStateStore _store = new(dataDir);

    /// <summary>The live data dir first, then the kept copies, newest first.</summary>
    public IReadOnlyList<AgentDataDir> List()
    {
        var pins = RollbackPins();
        var result = new List<AgentDataDir>();
        if (Directory.Exists(_store.DataDir))
        {
            result.Add(Describe(new DirectoryInfo(_store.DataDir), "live", null, "the live data dir"));
        }

        var parent = new DirectoryInfo(Path.GetDirectoryName(_store.DataDir)!);
        if (!parent.Exists)
        {
            return result;
        }

        var prefix = Path.GetFileName(_store.DataDir);
        var kept = new List<AgentDataDir>();
        foreach (var dir in parent.EnumerateDirectories(prefix + ".*"))
        {
            if (Classify(dir.Name, prefix) is not { } kind)
            {
                continue;
            }

            pins.TryGetValue(dir.FullName, out var pin);
            kept.Add(Describe(dir, kind.Kind, kind.RestoreId, pin));
        }

        result.AddRange(kept.OrderByDescending(d => d.Modified).ThenBy(d => d.Name, StringComparer.Ordinal));
        return result;
    }

    /// <summary>Deletes one kept copy by name; 404 when unknown, 409 when pinned.</summary>
    public AgentDataDir Remove(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw AgentRequestException.BadRequest("name must be a data dir name from the list, not a path");
        }

        var entry = List().FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal))
            ?? throw AgentRequestException.NotFound($"'{name}' is not a data dir of member data dir {_store.DataDir} (see the list)");
        if (entry.Pinned is not null)
        {
            throw AgentRequestException.Conflict($"refusing to remove {entry.Path}: {entry.Pinned}");
        }

        Directory.Delete(entry.Path, recursive: true);
        return entry;
    }

    private static (string Kind, string RestoreId)? Classify(string name, string prefix)
    {
        foreach (var (marker, kind) in new[] { (Before, "before"), (RolledBack, "rolledback") })
        {
            if (name.StartsWith(prefix + marker, StringComparison.Ordinal) && name.Length > prefix.Length + marker.Length)
            {
                return (kind, name[(prefix.Length + marker.Length)..]);
            }
        }

        return null;
    }

    /// <summary>Copies a restore in progress (swapped, not yet started or rolled back) needs to roll back.</summary>
    private Dictionary<string, string> RollbackPins()
    {
        var pins = new Dictionary<string, string>(StringComparer.Ordinal);
        var parent = Path.GetDirectoryName(_store.DataDir)!;
        if (!Directory.Exists(parent))
        {
            return pins;
        }

        foreach (var file in Directory.EnumerateFiles(parent, Path.GetFileName(_store.DataDir) + ".restore-*.json"))
        {
            AgentRestoreStatus? status;
            try
            {
                status = JsonSerializer.Deserialize<AgentRestoreStatus>(File.ReadAllText(file), AgentProtocol.Json);
            }
            catch (JsonException)
            {
                continue;
            }

            if (status is { Swapped: true, BeforeDir: { } before } && status.State is not (AgentRestoreState.Started or AgentRestoreState.RolledBack))
            {
                pins[Path.GetFullPath(before)] = $"restore {status.RestoreId} is under way ({status.State}) and needs it to roll back";
            }
        }

        return pins;
    }

    private static AgentDataDir Describe(DirectoryInfo dir, string kind, string? restoreId, string? pinned) => new()
    {
        Name = dir.Name,
        Kind = kind,
        RestoreId = restoreId,
        Path = dir.FullName,
        Modified = new DateTimeOffset(dir.LastWriteTimeUtc, TimeSpan.Zero),
        SizeBytes = dir.EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Sum(f => f.Length),
        Pinned = pinned,
    };
}
