using System.Text.Json;
using System.Text.RegularExpressions;
using EtcdServerless.Workflows.Hosting;

namespace EtcdServerless.Functions.Tests;

/// <summary>
/// Reads the functions.metadata the Functions SDK generated at build (what the Functions host would load) and checks
/// it against the product's registrations and docs/http-api.md: the host itself cannot be installed here.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Lazy<JsonElement[]> s_functions = new(Load);

    [Fact]
    public void Metadata_EveryOrchestratorAndActivity_IsAFunctionWithItsTrigger()
    {
        foreach (var name in WorkflowRegistration.Orchestrators.Keys)
        {
            Assert.Equal("orchestrationTrigger", Trigger(Function(name)).GetProperty("type").GetString());
        }

        foreach (var name in WorkflowRegistration.Activities.Keys)
        {
            Assert.Equal("activityTrigger", Trigger(Function(name)).GetProperty("type").GetString());
        }
    }

    [Fact]
    public void Metadata_DrillOrchestrationAndActivity_AreFunctions()
    {
        // Scheduled drills run in the Function App too (the minute timer starts them): both halves must be served.
        Assert.Equal("orchestrationTrigger", Trigger(Function("DrillOrchestration")).GetProperty("type").GetString());
        Assert.Equal("activityTrigger", Trigger(Function("DrillBackup")).GetProperty("type").GetString());
    }

    [Fact]
    public void Metadata_FunctionNames_AreValidFunctionNames()
    {
        // The host refuses names outside [A-Za-z][A-Za-z0-9_-]{0,127} (a dotted activity name once slipped through).
        Assert.All(s_functions.Value, f => Assert.Matches("^[A-Za-z][A-Za-z0-9_-]{0,127}$", f.GetProperty("name").GetString()!));
    }

    [Fact]
    public void Metadata_HttpTriggers_MatchTheDocumentedRoutes()
    {
        var documented = Regex.Matches(File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "http-api.md")), @"^### `(GET|POST) /api/(\S+)`", RegexOptions.Multiline)
            .Select(m => $"{m.Groups[1].Value.ToLowerInvariant()} {m.Groups[2].Value}")
            .Order(StringComparer.Ordinal)
            .ToList();
        var http = s_functions.Value
            .Select(Trigger)
            .Where(t => t.GetProperty("type").GetString() == "httpTrigger")
            .ToList();

        var served = http.SelectMany(t => t.GetProperty("methods").EnumerateArray().Select(m => $"{m.GetString()} {t.GetProperty("route").GetString()}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(4, documented.Count);
        Assert.Equal(documented, served);

        // Anonymous at the host: the API key check is the contract's own (x-api-key, x-functions-key or ?code=).
        Assert.All(http, t => Assert.Equal("Anonymous", t.GetProperty("authLevel").GetString()));
    }

    [Fact]
    public void Metadata_Scheduler_IsAMinuteTimerWithADurableClient()
    {
        var scheduler = Function("BackupScheduler");
        Assert.Equal("0 * * * * *", Trigger(scheduler).GetProperty("schedule").GetString());
        Assert.Contains(scheduler.GetProperty("bindings").EnumerateArray(), b => b.GetProperty("type").GetString() == "durableClient");
    }

    [Fact]
    public void Metadata_FreshnessMonitor_IsAFiveMinuteTimer()
    {
        Assert.Equal("30 */5 * * * *", Trigger(Function("FreshnessMonitor")).GetProperty("schedule").GetString());
    }

    /// <summary>The function names in the build output's functions.metadata (the package test compares against them).</summary>
    internal static IEnumerable<string> BuiltFunctionNames() => s_functions.Value.Select(f => f.GetProperty("name").GetString()!);

    private static JsonElement Function(string name) =>
        Assert.Single(s_functions.Value, f => f.GetProperty("name").GetString() == name);

    private static JsonElement Trigger(JsonElement function) =>
        function.GetProperty("bindings").EnumerateArray().First(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    private static JsonElement[] Load()
    {
        // artifacts/bin/<project>/<config>/: the Functions project's output beside this test project's.
        var mine = new DirectoryInfo(AppContext.BaseDirectory);
        var path = Path.Combine(mine.Parent!.Parent!.FullName, "EtcdServerless.Functions", mine.Name, "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}: build src/EtcdServerless.Functions first");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EtcdServerless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found");
    }
}
