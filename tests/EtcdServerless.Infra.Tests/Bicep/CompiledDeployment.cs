using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using EtcdServerless.Testing.Infrastructure;

namespace EtcdServerless.Infra.Tests.Bicep;

/// <summary>
/// One environment's deployment as Azure would see it: the ARM template and parameters compiled by
/// <c>bicep build-params</c>, and the resources that template expands to for those parameters, evaluated by
/// the deployment engine inside the Bicep CLI (<c>bicep snapshot</c>: every copy loop, condition, map() and
/// format() resolved; values only known at deployment time, such as a vault URI, stay as ARM expressions).
/// </summary>
internal sealed record CompiledEnvironment(
    string Name,
    JsonObject Template,
    JsonObject Parameters,
    IReadOnlyList<JsonObject> Resources,
    IReadOnlyList<string> Diagnostics)
{
    /// <summary>The Function App resource (exactly one).</summary>
    public JsonObject FunctionApp => Resources.Single(r => (string?)r["type"] == "Microsoft.Web/sites");

    /// <summary>siteConfig.appSettings of the Function App, in order, name to value.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> AppSettings =>
        [.. FunctionApp["properties"]!["siteConfig"]!["appSettings"]!.AsArray()
            .Select(s => KeyValuePair.Create((string)s!["name"]!, s["value"]?.ToString() ?? ""))];

    public IReadOnlyList<string> AppSettingNames => [.. AppSettings.Select(s => s.Key)];

    public string? AppSetting(string name) =>
        AppSettings.Where(s => string.Equals(s.Key, name, StringComparison.OrdinalIgnoreCase)).Select(s => s.Value).FirstOrDefault();

    public IEnumerable<JsonObject> OfType(string type) => Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));
}

internal static class CompiledDeployment
{
    public const string SubscriptionId = "00000000-0000-0000-0000-00000000c0de";
    public const string Location = "westeurope";

    private static readonly ConcurrentDictionary<string, Lazy<Task<CompiledEnvironment>>> Environments = new(StringComparer.Ordinal);

    /// <summary>infra/&lt;environment&gt;.bicepparam, compiled once per test run.</summary>
    public static Task<CompiledEnvironment> ForEnvironmentAsync(string environment) =>
        Environments.GetOrAdd(environment, e => new Lazy<Task<CompiledEnvironment>>(
            () => CompileAsync(RepositoryFiles.Infra, Path.Combine(RepositoryFiles.Infra, $"{e}.bicepparam")))).Value;

    /// <summary>
    /// Compiles <paramref name="parameterFile"/> against a copy of <paramref name="infraDirectory"/> (the
    /// parameter file is copied beside main.bicep, so it must say <c>using './main.bicep'</c>). Working on a
    /// copy keeps the snapshot file out of the source tree and lets a test edit a template first
    /// (<paramref name="edit"/> gets the copy's directory). <paramref name="environment"/> is what the
    /// parameter file's readEnvironmentVariable() sees.
    /// </summary>
    public static async Task<CompiledEnvironment> CompileAsync(
        string infraDirectory,
        string parameterFile,
        Action<string>? edit = null,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default)
    {
        using var temp = new TempDirectory("infra-compile");
        var copy = temp.Combine("infra");
        CopyTemplates(infraDirectory, copy);
        var parameters = Path.Combine(copy, Path.GetFileName(parameterFile));
        File.Copy(parameterFile, parameters, overwrite: true);
        edit?.Invoke(copy);

        var name = Path.GetFileNameWithoutExtension(parameterFile);
        var built = await BicepCli.RunAsync(["build-params", parameters, "--stdout"], environment, cancellationToken);
        Assert.True(built.ExitCode == 0, $"bicep build-params {name} failed: {built.StandardError}");
        var compiled = JsonNode.Parse(built.StandardOutput)!.AsObject();

        var snapshot = await BicepCli.RunAsync(
            ["snapshot", parameters, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--resource-group", $"rg-etcdbk-{name}", "--location", Location],
            environment,
            cancellationToken);
        Assert.True(snapshot.ExitCode == 0, $"bicep snapshot {name} failed: {snapshot.StandardError}");
        var predicted = JsonNode.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(parameters, ".snapshot.json"), cancellationToken))!.AsObject();

        var diagnostics = Lines(built.StandardError).Concat(Lines(snapshot.StandardError))
            .Concat(predicted["diagnostics"]?.AsArray().Select(d => d!.ToJsonString()) ?? []).ToList();
        return new CompiledEnvironment(
            name,
            JsonNode.Parse((string)compiled["templateJson"]!)!.AsObject(),
            JsonNode.Parse((string)compiled["parametersJson"]!)!.AsObject(),
            [.. predicted["predictedResources"]!.AsArray().Select(r => r!.AsObject())],
            diagnostics);
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static void CopyTemplates(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (file.EndsWith(".bicep", StringComparison.Ordinal) || file.EndsWith(".bicepparam", StringComparison.Ordinal)
                || Path.GetFileName(file) == "bicepconfig.json")
            {
                var target = Path.Combine(to, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }
}
