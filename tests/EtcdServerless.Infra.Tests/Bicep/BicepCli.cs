using EtcdServerless.Core.Members;
using EtcdServerless.Testing.Etcd;

namespace EtcdServerless.Infra.Tests.Bicep;

/// <summary>
/// The pinned Bicep CLI, found exactly as CI finds it: infra/tools/bicep-path restores the NuGet package
/// when needed and prints the binary's path. A missing compiler fails the test (never a skip).
/// </summary>
internal static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private static readonly Lazy<Task<string>> Located = new(LocateAsync);

    public static string Tool(string name) => Path.Combine(RepositoryFiles.Infra, "tools", name);

    /// <summary>Absolute path of the bicep binary.</summary>
    public static Task<string> PathAsync() => Located.Value;

    /// <summary>Runs the compiler with <paramref name="arguments"/> (and extra environment variables).</summary>
    public static async Task<CommandResult> RunAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        var variables = Environment();
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        return await ToolProcess.RunAsync(await PathAsync(), arguments, variables, timeout: Timeout, cancellationToken: cancellationToken);
    }

    /// <summary>Runs infra/tools/bicep-check (the CI check: build/build-params + lint, any diagnostic fails) on the files.</summary>
    public static Task<CommandResult> CheckAsync(IEnumerable<string> files, CancellationToken cancellationToken = default) =>
        ToolProcess.RunAsync("bash", [Tool("bicep-check"), .. files], Environment(), timeout: Timeout, cancellationToken: cancellationToken);

    private static async Task<string> LocateAsync()
    {
        var result = await ToolProcess.RunAsync("bash", [Tool("bicep-path")], Environment(), timeout: Timeout);
        var path = result.StandardOutput.Trim();
        if (result.ExitCode != 0 || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The Bicep CLI is required (NuGet Azure.Bicep.CommandLine.linux-x64, restored by infra/tools/bicep-path) but could not be found: exit {result.ExitCode}, {result.StandardError.Trim()}");
        }

        return path;
    }

    // bicep-path may run `dotnet restore`: no first-run banner or telemetry in test output.
    private static Dictionary<string, string> Environment() => new()
    {
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };
}
