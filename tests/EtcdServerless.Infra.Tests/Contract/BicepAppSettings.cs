using System.Text.RegularExpressions;

namespace EtcdServerless.Infra.Tests.Contract;

/// <summary>
/// Reads app-setting names out of Bicep text. The templates write every setting as an object
/// <c>{ name: '...', value: ... }</c> (see infra/modules/functionApp.bicep), which is the shape of
/// <c>siteConfig.appSettings</c> entries; nothing else in the templates has a <c>name</c> followed by a
/// <c>value</c>. Interpolations (<c>${c.name}</c>, <c>${i}</c>) become <c>*</c>, so
/// <c>'Clusters__${c.name}__Endpoints__${i}'</c> reads as <c>Clusters__*__Endpoints__*</c>, the same
/// pattern <see cref="ConfigurationKeys"/> derives. Comments are stripped first.
/// </summary>
internal static partial class BicepAppSettings
{
    public static IReadOnlyList<string> Names(string bicepText)
    {
        var text = StripComments(bicepText);
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match match in SettingObject().Matches(text))
        {
            names.Add(Interpolation().Replace(match.Groups["name"].Value, ConfigurationKeys.Wildcard));
        }

        return [.. names];
    }

    public static IReadOnlyList<string> NamesInFiles(IEnumerable<string> paths) =>
        [.. paths.SelectMany(p => Names(File.ReadAllText(p))).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase)];

    // Line comments outside strings and block comments; strings are kept intact.
    private static string StripComments(string text) =>
        CommentOrString().Replace(text, m => m.Value.StartsWith('\'') ? m.Value : m.Value.StartsWith("/*", StringComparison.Ordinal) ? " " : "");

    [GeneratedRegex(@"'''[\s\S]*?'''|'(?:[^'\\\r\n]|\\.)*'|//[^\r\n]*|/\*[\s\S]*?\*/")]
    private static partial Regex CommentOrString();

    // `{ name: '<string with optional ${...} parts>' [,] value:` across spaces or new lines.
    [GeneratedRegex(@"\{\s*name\s*:\s*'(?<name>(?:[^'\\$\r\n]|\\.|\$\{[^}]*\}|\$(?!\{))*)'\s*,?\s*value\s*:")]
    private static partial Regex SettingObject();

    [GeneratedRegex(@"\$\{[^}]*\}")]
    private static partial Regex Interpolation();
}
