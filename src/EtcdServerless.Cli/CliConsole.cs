namespace EtcdServerless.Cli;

/// <summary>The writers a command prints to and the clock it reads; tests pass their own.</summary>
internal sealed class CliConsole(TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>
    /// Where raw bytes go (<c>backup get -o raw</c>); null means the process's standard output. Text written to
    /// <see cref="Out"/> is flushed before bytes are written here.
    /// </summary>
    public Stream? RawOut { get; init; }

    /// <summary>The clock verbs judge ages by (<c>backup status</c>).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
