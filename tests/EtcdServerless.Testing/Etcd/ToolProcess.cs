using EtcdServerless.Core.Members;

namespace EtcdServerless.Testing.Etcd;

/// <summary>Runs short-lived external tools (etcdctl) for tests: the product's own runner with a default timeout.</summary>
public static class ToolProcess
{
    /// <summary>Runs <paramref name="fileName"/> and returns its exit code and output (never throws on a non-zero exit).</summary>
    public static Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null,
        string? standardInput = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        ExternalCommand.RunAsync(fileName, arguments, timeout ?? TimeSpan.FromSeconds(60), environment, standardInput, cancellationToken);
}
