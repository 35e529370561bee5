using System.Reflection;

namespace EtcdServerless.Infra.Tests;

/// <summary>Paths in the source tree (the build writes elsewhere, so the root is baked in at build time).</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = typeof(RepositoryFiles).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    public static string Infra => Path.Combine(Root, "infra");

    public static string Samples => Path.Combine(Root, "tests", "EtcdServerless.Infra.Tests", "Samples");

    public static string Read(params string[] relative) => File.ReadAllText(Path.Combine([Root, .. relative]));

    /// <summary>Every .bicep file of the deployment (main, modules, types).</summary>
    public static IReadOnlyList<string> InfraBicepFiles() =>
        Directory.GetFiles(Infra, "*.bicep", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
}
