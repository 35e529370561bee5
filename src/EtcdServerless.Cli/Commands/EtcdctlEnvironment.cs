using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// etcdctl's environment variables (<c>ETCDCTL_ENDPOINTS</c>, <c>ETCDCTL_CACERT</c>, <c>ETCDCTL_CERT</c>,
/// <c>ETCDCTL_KEY</c>, <c>ETCDCTL_USER</c>, <c>ETCDCTL_DIAL_TIMEOUT</c>): defaults of the matching flags,
/// which win when given, as in etcdctl.
/// </summary>
internal static class EtcdctlEnvironment
{
    /// <summary>The variable's value, or null when unset or blank.</summary>
    public static string? Read(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>Reports a missing required value as a parse error (one line, exit 1) and returns a placeholder.</summary>
    public static string Missing(ArgumentResult result, string message)
    {
        result.AddError(message);
        return "";
    }

    /// <summary>A file named by the variable, or null when unset.</summary>
    public static FileInfo? File(string name) => Read(name) is { } path ? new FileInfo(path) : null;
}

/// <summary>Go's duration syntax (<c>time.ParseDuration</c>), which etcdctl's flags use, plus .NET's <c>hh:mm:ss</c>.</summary>
internal static partial class GoDuration
{
    /// <summary>Parses <paramref name="value"/> for a flag; a bad value becomes a parse error naming <paramref name="source"/>.</summary>
    public static TimeSpan Parse(ArgumentResult result, string value, string source)
    {
        if (TryParse(value, out var duration, out var error))
        {
            return duration;
        }

        result.AddError($"{source}: {error}");
        return TimeSpan.Zero;
    }

    /// <summary>Parses <paramref name="value"/>: Go units (<c>ns us ms s m h</c>, combinable) or <c>hh:mm:ss</c>; must be positive.</summary>
    public static bool TryParse(string value, out TimeSpan result, out string? error)
    {
        error = null;
        result = TimeSpan.Zero;
        var text = value.Trim();
        var match = Pattern().Match(text);
        if (match.Success && text != "0")
        {
            double milliseconds = 0;
            foreach (Capture part in match.Groups["part"].Captures)
            {
                var unitStart = part.Value.IndexOfAny(['n', 'u', 'µ', 'm', 's', 'h']);
                var number = double.Parse(part.Value[..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                milliseconds += number * part.Value[unitStart..] switch
                {
                    "ns" => 1e-6,
                    "us" or "µs" => 1e-3,
                    "ms" => 1,
                    "s" => 1000,
                    "m" => 60_000,
                    _ => 3_600_000,
                };
            }

            result = TimeSpan.FromMilliseconds(milliseconds);
        }
        // A bare number is refused (Go does too): TimeSpan would read "5" as five days.
        else if (!text.Contains(':', StringComparison.Ordinal) || !TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out result))
        {
            error = $"'{value}' is not a duration (e.g. 5s, 500ms, 1m30s)";
            return false;
        }

        if (result <= TimeSpan.Zero)
        {
            error = $"'{value}' must be more than zero";
            return false;
        }

        return true;
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
