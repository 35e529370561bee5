using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace EtcdServerless.Infra.Tests.Packaging;

/// <summary>
/// The `dotnet tool` package CI builds (scripts/package-tool.sh, run by scripts/test.sh before the tests):
/// artifacts/packages/etcd-backup.VERSION.nupkg. Its contents, then a real `dotnet tool install` from the local
/// folder into a temporary tool path and the installed command run. A missing package is a failure, never a skip.
/// </summary>
public sealed class ToolPackageTests(ITestOutputHelper output)
{
    private static readonly Lazy<string> s_package = new(FindPackage);

    private static string PackagesFolder => Path.Combine(RepositoryFiles.Root, "artifacts", "packages");

    [Fact]
    public void Package_Nuspec_IsADotnetToolNamedEtcdBackup()
    {
        var nuspec = XDocument.Parse(ReadEntry(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)));
        var metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;

        Assert.Equal("etcd-backup", Value("id"));
        Assert.Equal(PackageVersion(), Value("version"));
        var packageTypes = metadata.Elements().Single(e => e.Name.LocalName == "packageTypes").Elements().Select(e => e.Attribute("name")?.Value);
        Assert.Contains("DotnetTool", packageTypes);
        // A tool package carries everything it runs: no dependency for NuGet to resolve at install time.
        Assert.DoesNotContain(metadata.Descendants(), e => e.Name.LocalName == "dependency");
    }

    [Fact]
    public void Package_ToolSettings_CommandEtcdBackupRunsTheCliAssembly()
    {
        var settings = XDocument.Parse(ReadEntry(e => e.Name == "DotnetToolSettings.xml"));
        var command = Assert.Single(settings.Descendants("Command"));

        Assert.Equal("etcd-backup", command.Attribute("Name")?.Value);
        Assert.Equal("etcd-backup.dll", command.Attribute("EntryPoint")?.Value);
        Assert.Equal("dotnet", command.Attribute("Runner")?.Value);
    }

    [Fact]
    public void Package_RuntimeConfig_NeedsDotnet10AndAspNetCore()
    {
        using var config = JsonDocument.Parse(ReadEntry(e => e.Name == "etcd-backup.runtimeconfig.json"));
        var options = config.RootElement.GetProperty("runtimeOptions");
        var frameworks = options.TryGetProperty("frameworks", out var list)
            ? list.EnumerateArray().ToList()
            : [options.GetProperty("framework")];
        var names = frameworks.Select(f => f.GetProperty("name").GetString()).ToList();

        // `serve` hosts Kestrel: installing the tool needs the ASP.NET Core runtime as well (README, install).
        Assert.Contains("Microsoft.AspNetCore.App", names);
        Assert.All(frameworks, f => Assert.StartsWith("10.", f.GetProperty("version").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task DotnetToolInstall_FromTheLocalFolder_InstalledCommandPrintsItsVersion()
    {
        var version = PackageVersion();
        var root = Directory.CreateTempSubdirectory("etcdsl-tool-");
        try
        {
            var toolPath = Path.Combine(root.FullName, "bin");
            // A private package folder: a cached etcd-backup of the same version must not stand in for this one.
            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(root.FullName, "nuget") };

            var install = await RunAsync("dotnet", ["tool", "install", "--tool-path", toolPath, "--add-source", PackagesFolder, "etcd-backup", "--version", version], environment);
            Assert.True(install.ExitCode == 0, $"dotnet tool install failed ({install.ExitCode}): {install.Error}{install.Output}");

            var run = await RunAsync(Path.Combine(toolPath, "etcd-backup"), ["--version"], environment);
            Assert.True(run.ExitCode == 0, $"etcd-backup --version failed ({run.ExitCode}): {run.Error}");
            var printed = run.Output.Trim();
            output.WriteLine($"installed etcd-backup {version} from {PackagesFolder}: --version printed {printed}");
            Assert.True(printed == version || printed.StartsWith(version + "+", StringComparison.Ordinal), $"--version printed '{printed}', expected {version}");

            // The installed tool is the whole CLI, not a stub: a real command runs (a new random API key, 43 characters)
            // and an unknown verb is a usage error (exit 2, one line on stderr).
            var key = await RunAsync(Path.Combine(toolPath, "etcd-backup"), ["keys", "api-key"], environment);
            Assert.True(key.ExitCode == 0, $"etcd-backup keys api-key failed ({key.ExitCode}): {key.Error}");
            Assert.Equal(43, key.Output.Trim().Length);
            var wrong = await RunAsync(Path.Combine(toolPath, "etcd-backup"), ["no-such-verb"], environment);
            Assert.Equal(2, wrong.ExitCode);
            Assert.StartsWith("error: ", wrong.Error, StringComparison.Ordinal);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static string FindPackage()
    {
        var packages = Directory.Exists(PackagesFolder) ? Directory.GetFiles(PackagesFolder, "etcd-backup.*.nupkg") : [];
        Assert.True(packages.Length == 1, $"expected one etcd-backup.*.nupkg in {PackagesFolder}, found {packages.Length}: run scripts/package-tool.sh (scripts/test.sh does)");
        return packages[0];
    }

    private static string PackageVersion()
    {
        var name = Path.GetFileNameWithoutExtension(s_package.Value);
        return name["etcd-backup.".Length..];
    }

    private static string ReadEntry(Func<ZipArchiveEntry, bool> match)
    {
        using var zip = ZipFile.OpenRead(s_package.Value);
        var entry = zip.Entries.SingleOrDefault(match) ?? throw new InvalidOperationException($"entry not found in {s_package.Value}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, IEnumerable<string> arguments, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
