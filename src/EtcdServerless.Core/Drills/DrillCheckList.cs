using System.Diagnostics;
using System.Globalization;

namespace EtcdServerless.Core.Drills;

/// <summary>The checks of one drill as they are run, each timed from the end of the previous one.</summary>
internal sealed class DrillCheckList
{
    private readonly List<DrillCheck> _checks = [];
    private readonly Stopwatch _step = Stopwatch.StartNew();

    /// <summary>The checks so far, in order.</summary>
    public IReadOnlyList<DrillCheck> Checks => _checks;

    /// <summary>True when a check was added and the last one passed.</summary>
    public bool LastPassed => _checks.Count > 0 && _checks[^1].Passed;

    /// <summary>Adds a check timed since the previous one.</summary>
    public void Add(string name, bool passed, object? expected = null, object? actual = null, string? detail = null)
    {
        _checks.Add(new DrillCheck(name, passed, Text(expected), Text(actual), detail, _step.Elapsed));
        _step.Restart();
    }

    /// <summary>Adds a check that was timed elsewhere (the agent's, or the caller's stream).</summary>
    public void Add(DrillCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        _checks.Add(check);
        _step.Restart();
    }

    private static string? Text(object? value) => value is null ? null : Convert.ToString(value, CultureInfo.InvariantCulture);
}
