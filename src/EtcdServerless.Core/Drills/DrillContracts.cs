using System.Text.Json.Serialization;

namespace EtcdServerless.Core.Drills;

/// <summary>One check of a restore drill, with what was expected, what was found and how long it took.</summary>
internal sealed record DrillCheck(string Name, bool Passed, string? Expected, string? Actual, string? Detail, TimeSpan Duration);

/// <summary>
/// The outcome of one restore drill of one backup; also the append-only record kept beside the manifest
/// (<c>{backupId}.drill-{utc}.json</c>). Property names are a contract (camelCase JSON).
/// </summary>
internal sealed record DrillResult
{
    /// <summary>Current record schema version.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    public required string Cluster { get; init; }

    public required string BackupId { get; init; }

    /// <summary>When the drill started (UTC).</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary><c>passed</c> or <c>failed</c>.</summary>
    public required string Outcome { get; init; }

    /// <summary>Every check run, in order; a drill stops at the first check whose failure makes the rest meaningless.</summary>
    public required IReadOnlyList<DrillCheck> Checks { get; init; }

    /// <summary>Wall time of the whole drill.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>The etcd binary that served the restored member (its <c>--version</c> line).</summary>
    public string EtcdVersion { get; init; } = "";

    public string ToolVersion { get; init; } = "";

    /// <summary>Where the drill ran: <c>local</c>, or <c>agent https://...</c> (absent in records written before agents drilled).</summary>
    public string? RanOn { get; init; }

    /// <summary>A result from its checks: passed only when there is at least one check and every one passed.</summary>
    public static DrillResult Create(DrillExpectation expected, DateTimeOffset started, IReadOnlyList<DrillCheck> checks, TimeSpan duration, string etcdVersion, string ranOn)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(checks);
        return new DrillResult
        {
            Cluster = expected.Cluster,
            BackupId = expected.BackupId,
            Started = started,
            Outcome = checks.Count > 0 && checks.All(c => c.Passed) ? OutcomePassed : OutcomeFailed,
            Checks = checks,
            Duration = duration,
            EtcdVersion = etcdVersion,
            ToolVersion = BackupDrill.ToolVersion,
            RanOn = ranOn,
        };
    }

    /// <summary>True when every check passed.</summary>
    [JsonIgnore]
    public bool Passed => string.Equals(Outcome, OutcomePassed, StringComparison.Ordinal);

    /// <summary>The first failed check, if any.</summary>
    [JsonIgnore]
    public DrillCheck? FirstFailure => Checks.FirstOrDefault(c => !c.Passed);

    /// <summary>The <see cref="Outcome"/> of a drill whose every check passed.</summary>
    public const string OutcomePassed = "passed";

    /// <summary>The <see cref="Outcome"/> of a drill with a failed check.</summary>
    public const string OutcomeFailed = "failed";
}

/// <summary>Source-generated JSON for drill records: camelCase, indented.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DrillResult))]
internal sealed partial class DrillJsonContext : JsonSerializerContext;
