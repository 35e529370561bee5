using System.CommandLine;
using System.Security.Cryptography;

namespace EtcdServerless.Cli.Commands;

/// <summary>
/// Runs a verb's body with the CLI error policy: exit code 0 only on success; an error is one clear line on
/// stderr (<c>error: ...</c>), with the stack trace only under <c>--verbose</c>.
/// </summary>
internal static class CommandAction
{
    /// <summary>Exit code for failures that are the user's input or the environment, not a bug.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for usage errors (bad arguments).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code when the operation was cancelled (Ctrl+C).</summary>
    public const int Cancelled = 130;

    public static void Set(Command command, CliConsole console, Func<ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var verbose = parseResult.GetValue(CommonOptions.Verbose);
            try
            {
                return await body(parseResult, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await console.Error.WriteLineAsync("error: cancelled").ConfigureAwait(false);
                return Cancelled;
            }
            catch (Exception ex) when (IsExpected(ex) || !verbose)
            {
                await console.Error.WriteLineAsync($"error: {Describe(ex)}").ConfigureAwait(false);
                if (verbose)
                {
                    await console.Error.WriteLineAsync(ex.ToString()).ConfigureAwait(false);
                }

                return ex is ArgumentException ? UsageError : Failure;
            }
        });
    }

    /// <summary>One line: the message, followed by the innermost distinct cause.</summary>
    internal static string Describe(Exception ex)
    {
        var message = ex.Message.ReplaceLineEndings(" ");
        var inner = ex.InnerException;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        // Only the cause's first line: SDK exceptions (Azure's RequestFailedException) append their whole
        // response, headers and body, after it.
        var cause = inner is null ? null : FirstLine(inner.Message);
        if (!string.IsNullOrEmpty(cause) && !message.Contains(cause, StringComparison.Ordinal))
        {
            message += $" ({cause})";
        }

        return message;
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOfAny(['\r', '\n']);
        return (newline < 0 ? text : text[..newline]).Trim();
    }

    private static bool IsExpected(Exception ex) =>
        ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException
            or InvalidOperationException or CryptographicException or KeyNotFoundException or TimeoutException
            or HttpRequestException;
}
