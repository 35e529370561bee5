using System.Text.RegularExpressions;

namespace EtcdServerless.Infra.Tests.Architecture;

/// <summary>
/// Log event ids name one event each across the product (operators filter and alert on them), so two
/// <c>[LoggerMessage]</c> declarations never share an id, whichever project they are in.
/// </summary>
public sealed partial class LogEventIdTests
{
    [Fact]
    public void LoggerMessages_AcrossSourceProjects_HaveUniqueEventIds()
    {
        var declarations = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => EventId().Matches(File.ReadAllText(file))
                .Select(m => (Id: int.Parse(m.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    Where: $"{Path.GetRelativePath(RepositoryFiles.Root, file)} ({m.Groups["rest"].Value.Trim()})")))
            .ToList();

        var shared = declarations.GroupBy(d => d.Id).Where(g => g.Count() > 1)
            .Select(g => $"event id {g.Key}: {string.Join(", ", g.Select(d => d.Where))}")
            .ToList();

        Assert.True(declarations.Count > 50, $"only {declarations.Count} [LoggerMessage] event ids found: is the pattern still right?");
        Assert.True(shared.Count == 0, string.Join(Environment.NewLine, shared));
    }

    [GeneratedRegex(@"\[LoggerMessage\(\s*EventId\s*=\s*(?<id>\d+)(?<rest>[^\]\r\n]{0,60})")]
    private static partial Regex EventId();
}
