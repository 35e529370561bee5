using System.Diagnostics;
using System.Text;

namespace EtcdServerless.Core.Members;

/// <summary>Outcome of a finished external command.</summary>
public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>True when the command exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>The last non-empty line of stderr (or stdout), for one-line error messages.</summary>
    public string LastLine()
    {
        var text = string.IsNullOrWhiteSpace(StandardError) ? StandardOutput : StandardError;
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "" : lines[^1];
    }
}

/// <summary>
/// Runs short-lived tools (etcdctl, systemctl, hook commands) with a timeout, capturing their output. A timeout
/// kills the whole process tree and surfaces as <see cref="TimeoutException"/>; a missing binary as
/// <see cref="FileNotFoundException"/>.
/// </summary>
internal static class ExternalCommand
{
    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/>; never throws on a non-zero exit.</summary>
    public static Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null,
        CancellationToken cancellationToken = default) =>
        RunAsync(fileName, arguments, timeout, environment, standardInput: null, cancellationToken);

    /// <summary>As the overload without input, writing <paramref name="standardInput"/> (when not null) to the tool's stdin.</summary>
    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment,
        string? standardInput,
        CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = new Process { StartInfo = info };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new FileNotFoundException($"Cannot run '{fileName}': {ex.Message}", fileName, ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
        }

        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutCts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            TryKill(process);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"'{Path.GetFileName(fileName)} {string.Join(' ', info.ArgumentList)}' did not finish within {timeout}.");
        }

        lock (stdout)
        {
            lock (stderr)
            {
                return new CommandResult(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    /// <summary>Runs a shell command line (<c>/bin/sh -c</c>), for user-configured hooks and custom control commands.</summary>
    public static Task<CommandResult> RunShellAsync(string commandLine, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        RunAsync("/bin/sh", ["-c", commandLine], timeout, cancellationToken: cancellationToken);

    /// <summary>Finds an executable: an absolute/relative path as given, else the first match on PATH; null when absent.</summary>
    public static string? Locate(string? nameOrPath)
    {
        if (string.IsNullOrWhiteSpace(nameOrPath))
        {
            return null;
        }

        if (nameOrPath.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(nameOrPath) ? Path.GetFullPath(nameOrPath) : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, nameOrPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
