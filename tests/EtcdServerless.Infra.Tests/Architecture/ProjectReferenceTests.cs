using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace EtcdServerless.Infra.Tests.Architecture;

/// <summary>
/// The dependency rule of docs/architecture.md ("Map") against the project files: the table is the rule, so the
/// documentation and the build cannot drift apart.
/// </summary>
public sealed partial class ProjectReferenceTests
{
    private const string Prefix = "EtcdServerless.";

    [Fact]
    public void SourceProjects_References_OnlyThoseTheMapAllows()
    {
        var allowed = ReadMap();
        var violations = new List<string>();
        foreach (var (project, references) in ReadSourceProjects())
        {
            if (!allowed.TryGetValue(project, out var mayUse))
            {
                violations.Add($"{project} is not in the map of docs/architecture.md");
                continue;
            }

            violations.AddRange(references.Where(r => !mayUse.Contains(r)).Select(r => $"{project} references {r}, which its row does not allow"));
        }

        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void Map_EveryRow_NamesAnExistingProject()
    {
        var projects = ReadSourceProjects().Keys.ToHashSet(StringComparer.Ordinal);
        var stale = ReadMap().Keys.Where(p => !projects.Contains(p)).ToList();

        Assert.True(stale.Count == 0, "rows without a project: " + string.Join(", ", stale));
    }

    [Fact]
    public void ReadMap_KnownRow_ParsesAllowedReferences()
    {
        // Guards the parser itself: if the table's format changes, the rule must not silently allow everything.
        var map = ReadMap();

        Assert.True(map["Workflows"].SetEquals(["Core", "Azure", "S3"]), string.Join(", ", map["Workflows"]));
        Assert.Empty(map["Etcd"]);
        Assert.DoesNotContain("Workflows", map["Core"]);
    }

    private static Dictionary<string, HashSet<string>> ReadMap()
    {
        var text = RepositoryFiles.Read("docs", "architecture.md");
        var section = text[text.IndexOf("## Map", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];
        var map = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (Match row in MapRow().Matches(section))
        {
            var uses = row.Groups["uses"].Value.Trim();
            map[row.Groups["name"].Value] = uses.StartsWith('(')
                ? []
                : uses.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        }

        Assert.True(map.Count > 0, "docs/architecture.md has no map rows");
        return map;
    }

    private static Dictionary<string, IReadOnlyList<string>> ReadSourceProjects()
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "src"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var references = XDocument.Load(file).Descendants("ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', '/')))
                .Select(Short)
                .ToList();
            result[Short(name)] = references;
        }

        return result;
    }

    private static string Short(string projectName) =>
        projectName.StartsWith(Prefix, StringComparison.Ordinal) ? projectName[Prefix.Length..] : projectName;

    [GeneratedRegex(@"^\| `EtcdServerless\.(?<name>[A-Za-z0-9.]+)` \|[^|\n]*\| (?<uses>[^|\n]*) \|\s*$", RegexOptions.Multiline)]
    private static partial Regex MapRow();
}
