using System.IO.Compression;
using System.Text.Json;
using EtcdServerless.Workflows.Hosting;
using Xunit.Abstractions;

namespace EtcdServerless.Functions.Tests;

/// <summary>
/// Opens the deployment package CI builds (scripts/package-functions.sh, run by scripts/test.sh before the tests) and the
/// GitHub workflow deploys: artifacts/packages/functions.zip. Missing package is a failure, never a skip.
/// </summary>
public sealed class FunctionsPackageTests(ITestOutputHelper output)
{
    private static readonly Lazy<Dictionary<string, byte[]>> s_entries = new(Load);

    [Theory]
    [InlineData("functions.metadata")]
    [InlineData("extensions.json")]
    [InlineData("host.json")]
    [InlineData("worker.config.json")]
    [InlineData("EtcdServerless.Functions.dll")]
    [InlineData("EtcdServerless.Functions.deps.json")]
    [InlineData("EtcdServerless.Functions.runtimeconfig.json")]
    [InlineData("EtcdServerless.Workflows.dll")]
    public void Package_RequiredFile_IsAtTheZipRoot(string name)
    {
        Assert.True(s_entries.Value.ContainsKey(name), $"{name} is not at the root of {PackagePath}");
    }

    [Fact]
    public void Package_FunctionsMetadata_ListsEveryBuiltFunctionWithItsWorkerInThePackage()
    {
        using var metadata = JsonDocument.Parse(s_entries.Value["functions.metadata"]);
        var functions = metadata.RootElement.EnumerateArray().ToList();
        var names = functions.Select(f => f.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList();
        output.WriteLine($"functions.metadata in {PackagePath}: {names.Count} functions");
        foreach (var function in functions)
        {
            var trigger = function.GetProperty("bindings").EnumerateArray()
                .Select(b => b.GetProperty("type").GetString()!)
                .First(t => t.EndsWith("Trigger", StringComparison.Ordinal));
            output.WriteLine($"  {function.GetProperty("name").GetString()} ({trigger})");

            // The host loads each function from its scriptFile, relative to the package root.
            var scriptFile = function.GetProperty("scriptFile").GetString()!;
            Assert.True(s_entries.Value.ContainsKey(scriptFile), $"{scriptFile} (function {function.GetProperty("name").GetString()}) is not in the package");
        }

        // The package must be the current build: the same functions as the build output's functions.metadata,
        // and every orchestrator and activity the workflows register.
        Assert.Equal(FunctionsMetadataTests.BuiltFunctionNames().Order(StringComparer.Ordinal), names);
        Assert.Subset(names.ToHashSet(), WorkflowRegistration.Orchestrators.Keys.Concat(WorkflowRegistration.Activities.Keys).ToHashSet());
        Assert.Contains("BackupScheduler", names);
    }

    [Fact]
    public void Package_Extensions_EveryHintPathIsInThePackage()
    {
        using var extensions = JsonDocument.Parse(s_entries.Value["extensions.json"]);
        var list = extensions.RootElement.GetProperty("extensions").EnumerateArray().ToList();
        Assert.Contains(list, e => e.GetProperty("name").GetString() == "DurableTask");
        foreach (var extension in list)
        {
            var hint = extension.GetProperty("hintPath").GetString()!;
            var entry = hint.StartsWith("./", StringComparison.Ordinal) ? hint[2..] : hint;
            Assert.True(s_entries.Value.ContainsKey(entry), $"extension {extension.GetProperty("name").GetString()}: {hint} is not in the package");
        }
    }

    [Fact]
    public void Package_WorkerConfig_PointsAtTheIsolatedWorkerInThePackage()
    {
        using var config = JsonDocument.Parse(s_entries.Value["worker.config.json"]);
        var description = config.RootElement.GetProperty("description");
        Assert.Equal("dotnet-isolated", description.GetProperty("language").GetString());
        Assert.Contains(description.GetProperty("defaultWorkerPath").GetString()!, s_entries.Value.Keys);
    }

    [Fact]
    public void Package_HostJson_IsTheRepositoryHostJson()
    {
        var repository = File.ReadAllBytes(Path.Combine(FunctionsMetadataTests.RepositoryRoot(), "host.json"));
        Assert.Equal(repository, s_entries.Value["host.json"]);
    }

    [Fact]
    public void Package_LocalSettings_AreNeverShipped()
    {
        // local.settings.json holds developer connection strings; the app's settings come from the templates.
        Assert.DoesNotContain(s_entries.Value.Keys, k => k.EndsWith("local.settings.json", StringComparison.OrdinalIgnoreCase));
    }

    private static string PackagePath => Path.Combine(FunctionsMetadataTests.RepositoryRoot(), "artifacts", "packages", "functions.zip");

    private static Dictionary<string, byte[]> Load()
    {
        Assert.True(File.Exists(PackagePath), $"deployment package not found at {PackagePath}: run scripts/package-functions.sh (scripts/test.sh does)");
        using var zip = ZipFile.OpenRead(PackagePath);
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries.Where(e => !e.FullName.EndsWith('/')))
        {
            // Only the small JSON files are read whole; the rest are listed by name.
            byte[] content = [];
            if (entry.Name.EndsWith(".json", StringComparison.Ordinal) || entry.Name == "functions.metadata")
            {
                using var stream = entry.Open();
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                content = buffer.ToArray();
            }

            entries.Add(entry.FullName, content);
        }

        return entries;
    }
}
