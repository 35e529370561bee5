namespace EtcdServerless.Core.Restore;

/// <summary>
/// In which waves the snapshot reaches the members. Members on different hosts receive it at once (one decrypted
/// stream, copied to every agent). Members sharing a host (the same boot id in their preflight) share its cores and
/// its disk: sent at once, all three transfers run first and all three restore tools' disk writes after them. Sent in
/// turn, each member's restore tool writes while the next member receives (measured in docs/benchmarks.md, "restore").
/// Wave k holds the k-th member of every host, in the request's order; a member whose host is unknown is its own host.
/// </summary>
internal static class RestoreDistribution
{
    /// <summary>The waves, by member name.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Waves(IEnumerable<(string Name, string? HostId)> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        var waves = new List<List<string>>();
        var placed = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, hostId) in members)
        {
            var wave = 0;
            if (!string.IsNullOrEmpty(hostId))
            {
                placed.TryGetValue(hostId, out wave);
                placed[hostId] = wave + 1;
            }

            while (waves.Count <= wave)
            {
                waves.Add([]);
            }

            waves[wave].Add(name);
        }

        return waves;
    }

    /// <summary>The plan's line about the waves.</summary>
    public static string Describe(IReadOnlyList<IReadOnlyList<string>> waves)
    {
        ArgumentNullException.ThrowIfNull(waves);
        return waves.Count <= 1
            ? $"ok: the snapshot reaches {string.Join(", ", waves.SelectMany(w => w))} at once (one decrypted stream to every agent)"
            : $"ok: members share a host: the snapshot reaches them in {waves.Count} waves ({string.Join(" | ", waves.Select(w => string.Join(", ", w)))}), "
                + "each wave restoring while the next receives";
    }
}
