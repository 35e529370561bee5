using System.Text.RegularExpressions;

namespace EtcdServerless.Infra.Tests.Contract;

/// <summary>
/// Keys the Functions app reads straight from <c>IConfiguration</c>, outside the EtcdBackupOptions tree
/// (e.g. <c>configuration.GetValue("Backup:ConsistencyCheck", false)</c> or
/// <c>configuration[ManagedIdentityClientIdSetting]</c> with a string constant), found in its sources so a
/// new direct read is picked up like a new option property. Returned in app-setting form (<c>__</c>).
/// </summary>
internal static partial class CodeReadKeys
{
    public static string FunctionsSourceDirectory => Path.Combine(RepositoryFiles.Root, "src", "EtcdServerless.Functions");

    public static IReadOnlyList<string> FromSources(string directory)
    {
        var texts = Directory.GetFiles(directory, "*.cs", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        var constants = texts.SelectMany(t => StringConstant().Matches(t))
            .GroupBy(m => m.Groups["name"].Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Groups["value"].Value, StringComparer.Ordinal);
        var keys = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var text in texts)
        {
            foreach (Match m in LiteralRead().Matches(text))
            {
                keys.Add(m.Groups["key"].Value);
            }

            foreach (Match m in ConstantRead().Matches(text))
            {
                if (constants.TryGetValue(m.Groups["name"].Value, out var value))
                {
                    keys.Add(value);
                }
            }
        }

        return [.. keys.Select(k => k.Replace(":", "__", StringComparison.Ordinal))];
    }

    // configuration.GetValue<T>("A:B" / GetValue("A:B", ...) / GetSection("A:B") / GetConnectionString / configuration["A:B"]
    [GeneratedRegex(@"(?:\b(?:GetValue(?:<[^>()]+>)?|GetSection|GetRequiredSection)\(\s*""(?<key>[^""]+)""|\b[cC]onfiguration\[\s*""(?<key>[^""]+)""\s*\])")]
    private static partial Regex LiteralRead();

    // configuration[SomeConstant] / GetValue<T>(SomeConstant
    [GeneratedRegex(@"(?:\b[cC]onfiguration\[\s*(?<name>[A-Z][A-Za-z0-9_]*)\s*\]|\bGetValue(?:<[^>()]+>)?\(\s*(?<name>[A-Z][A-Za-z0-9_]*)\s*[,)])")]
    private static partial Regex ConstantRead();

    [GeneratedRegex(@"\bconst\s+string\s+(?<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*""(?<value>[^""]+)""")]
    private static partial Regex StringConstant();
}
