using System.Text.RegularExpressions;

namespace EtcdServerless.Infra.Tests.Templates;

/// <summary>Small text helpers for structural assertions on the template sources (compiled checks: Bicep/CompiledDeployment).</summary>
internal static partial class BicepText
{
    public static string Module(string name) => WithoutComments(RepositoryFiles.Read("infra", "modules", name));

    public static string MainTemplate() => WithoutComments(RepositoryFiles.Read("infra", "main.bicep"));

    /// <summary>The text with // and /* */ comments removed, strings untouched.</summary>
    public static string WithoutComments(string text) =>
        CommentOrString().Replace(text, m => m.Value.StartsWith('\'') ? m.Value : m.Value.StartsWith("/*", StringComparison.Ordinal) ? " " : "");

    /// <summary>Whether <paramref name="property"/>: <paramref name="value"/> appears (any spacing).</summary>
    public static bool HasProperty(string text, string property, string value) =>
        Regex.IsMatch(text, $@"(?m)^\s*{Regex.Escape(property)}\s*:\s*{Regex.Escape(value)}\s*$");

    /// <summary>The body (braces included) of the resource declared with the symbolic name <paramref name="symbol"/>.</summary>
    public static string ResourceBody(string text, string symbol)
    {
        var start = Regex.Match(text, $@"(?m)^resource\s+{Regex.Escape(symbol)}\s");
        Assert.True(start.Success, $"resource {symbol} not found");
        var open = text.IndexOf('{', start.Index);
        var depth = 0;
        for (var i = open; i < text.Length; i++)
        {
            depth += text[i] switch { '{' => 1, '}' => -1, _ => 0 };
            if (depth == 0)
            {
                return text[open..(i + 1)];
            }
        }

        throw new InvalidOperationException($"resource {symbol} is not closed");
    }

    /// <summary>Parameter names declared without a preceding @description decorator.</summary>
    public static IEnumerable<string> ParamsWithoutDescription(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var param = Regex.Match(lines[i], @"^param\s+([A-Za-z_][A-Za-z0-9_]*)");
            if (!param.Success)
            {
                continue;
            }

            // The decorators are the lines right above the param, up to a blank line or the previous
            // statement (a decorator such as @allowed([...]) may span several lines).
            var described = false;
            for (var j = i - 1; j >= 0 && !EndsDecoratorBlock(lines[j]); j--)
            {
                described |= lines[j].TrimStart().StartsWith("@description(", StringComparison.Ordinal)
                    || lines[j].TrimStart().StartsWith("@sys.description(", StringComparison.Ordinal);
            }

            if (!described)
            {
                yield return param.Groups[1].Value;
            }
        }
    }

    private static bool EndsDecoratorBlock(string line) =>
        line.Trim().Length == 0 || StatementStart().IsMatch(line);

    [GeneratedRegex(@"^(param|var|resource|module|output|type|import|targetScope|func|metadata|using)\b|^//")]
    private static partial Regex StatementStart();

    [GeneratedRegex(@"'''[\s\S]*?'''|'(?:[^'\\\r\n]|\\.)*'|//[^\r\n]*|/\*[\s\S]*?\*/")]
    private static partial Regex CommentOrString();
}
