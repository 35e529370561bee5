namespace EtcdServerless.Workflows.InProcess;

/// <summary>
/// How long the in-process engine remembers finished runs (<c>Api:KeepFinishedRuns</c>,
/// <c>Api:KeepFinishedRunsMinutes</c>). A finished run is forgotten when it finished more than
/// <see cref="KeepFor"/> ago or when <see cref="KeepCount"/> newer runs have finished, whichever comes first:
/// a long-running <c>serve</c> then holds at most <see cref="KeepCount"/> finished runs, whatever its uptime.
/// Running instances are never forgotten.
/// </summary>
/// <param name="KeepCount">The most finished runs kept (at least 1).</param>
/// <param name="KeepFor">How long after it finished a run's status stays readable (positive).</param>
internal sealed record InProcessRetention(int KeepCount, TimeSpan KeepFor)
{
    /// <summary>Default count: a finished run holds its input and output JSON (a few KiB), so this bounds the map to a few MiB.</summary>
    public const int DefaultKeepCount = 1000;

    /// <summary>Default age in minutes.</summary>
    public const int DefaultKeepMinutes = 60;

    /// <summary>1,000 runs, one hour.</summary>
    public static InProcessRetention Default { get; } = new(DefaultKeepCount, TimeSpan.FromMinutes(DefaultKeepMinutes));

    /// <summary>True when a run that finished at <paramref name="finishedAt"/>, with <paramref name="newerFinished"/> finished after it, is forgotten.</summary>
    public bool Forgets(DateTimeOffset finishedAt, int newerFinished, DateTimeOffset now) =>
        newerFinished >= KeepCount || now - finishedAt > KeepFor;
}
