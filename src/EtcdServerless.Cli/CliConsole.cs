namespace EtcdServerless.Cli;

/// <summary>The writers a command prints to; tests pass their own.</summary>
internal sealed class CliConsole(TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;
}
