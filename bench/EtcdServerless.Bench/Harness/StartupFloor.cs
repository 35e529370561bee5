using System.Diagnostics;
using EtcdServerless.Bench.Snapshot;

namespace EtcdServerless.Bench.Harness;

/// <summary>
/// The cost of starting a .NET process at all: a hello-world console app published like the CLI (framework-
/// dependent, linux-x64, ReadyToRun), measured the way the CLI is (GNU time, median). A short command cannot beat
/// this floor; the bench prints it beside the figures it explains.
/// </summary>
internal static class StartupFloor
{
    public static async Task<SnapshotBench.Run> MeasureAsync(string time, string work, int runs)
    {
        var project = Path.Combine(work, "hello");
        Directory.CreateDirectory(project);
        await File.WriteAllTextAsync(Path.Combine(project, "hello.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <PublishReadyToRun>true</PublishReadyToRun>
                <InvariantGlobalization>true</InvariantGlobalization>
              </PropertyGroup>
            </Project>
            """).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), "System.Console.WriteLine(\"hello\");\n").ConfigureAwait(false);

        // Outside the repository: its Directory.Build.props (analyzers, warnings as errors) must not apply.
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = project };
        foreach (var a in (string[])["publish", "-c", "Release", "-r", "linux-x64", "--self-contained", "false", "-o", Path.Combine(project, "out"), "--nologo", "-v", "q"])
        {
            info.ArgumentList.Add(a);
        }

        using (var process = Process.Start(info)!)
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException("dotnet publish of the hello-world floor failed");
            }
        }

        var measured = new List<SnapshotBench.Run>();
        for (var i = 0; i < runs; i++)
        {
            measured.Add(await SnapshotBench.MeasureAsync(time, Path.Combine(project, "out", "hello"), []).ConfigureAwait(false));
        }

        return measured.OrderBy(r => r.Seconds).ElementAt(measured.Count / 2);
    }
}
