using System.Diagnostics;
using Spectre.Console;

namespace EtcdServerless.Cli.Output;

/// <summary>
/// Step-by-step progress on stderr: a Spectre.Console spinner when stderr is an interactive terminal, plain
/// <c>==&gt; step ... ok (1.2 s)</c> lines otherwise (logs, CI, tests), so stdout stays clean for results.
/// </summary>
internal sealed class CliProgress(CliConsole console)
{
    /// <summary>True when progress goes to a real terminal.</summary>
    public bool Interactive { get; } = ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Runs one step and reports it (a step that throws is reported failed).</summary>
    public Task<T> StepAsync<T>(string description, Func<CancellationToken, Task<T>> step, CancellationToken cancellationToken = default) =>
        StepAsync(description, step, succeeded: null, cancellationToken);

    /// <summary>
    /// Runs one step whose failures come back as results: <paramref name="succeeded"/> decides whether the line says
    /// <c>ok</c> or <c>failed</c>, so no <c>ok</c> is ever printed above the step's error.
    /// </summary>
    public async Task<T> StepAsync<T>(string description, Func<CancellationToken, Task<T>> step, Func<T, bool>? succeeded, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        if (Interactive)
        {
            var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            T result = default!;
            await ansi.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(description) + "...", async _ =>
            {
                result = await step(cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
            ansi.MarkupLine(succeeded is null || succeeded(result)
                ? $"[green]ok[/] {Markup.Escape(description)} [grey]({Seconds(watch)})[/]"
                : $"[red]failed[/] {Markup.Escape(description)} [grey]({Seconds(watch)})[/]");
            return result;
        }

        await console.Error.WriteLineAsync($"==> {description}...".AsMemory(), cancellationToken).ConfigureAwait(false);
        try
        {
            var result = await step(cancellationToken).ConfigureAwait(false);
            await console.Error.WriteLineAsync(
                (succeeded is null || succeeded(result) ? $"    ok ({Seconds(watch)})" : $"    failed after {Seconds(watch)}").AsMemory(),
                cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await console.Error.WriteLineAsync($"    failed after {Seconds(watch)}".AsMemory(), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs one step without a result.</summary>
    public Task StepAsync(string description, Func<CancellationToken, Task> step, CancellationToken cancellationToken = default) =>
        StepAsync<bool>(description, async ct =>
        {
            await step(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>A note line between steps.</summary>
    public Task NoteAsync(string text, CancellationToken cancellationToken = default) =>
        console.Error.WriteLineAsync($"    {text}".AsMemory(), cancellationToken);

    private static string Seconds(Stopwatch watch) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{watch.Elapsed.TotalSeconds:0.0} s");
}
