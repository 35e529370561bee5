using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace EtcdServerless.Cli.Composition;

/// <summary>
/// Logging of the CLI: everything goes to stderr (stdout carries results). On an interactive terminal the console
/// logger with colours; otherwise (pipes, CI, tests) plain one-line entries written to the CLI's error writer.
/// </summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(CliConsole console, LogLevel minimum)
    {
        var interactive = ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(minimum);
            builder.AddFilter("Microsoft", LogLevel.Warning);
            builder.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            if (interactive)
            {
                builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                    o.ColorBehavior = LoggerColorBehavior.Enabled;
                });
                builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            }
            else
            {
                builder.AddProvider(new WriterLoggerProvider(console.Error));
            }
        });
    }

    /// <summary>Plain <c>level: category: message</c> lines to a writer, serialized.</summary>
    private sealed class WriterLoggerProvider(TextWriter writer) : ILoggerProvider
    {
        private readonly Lock _gate = new();

        public ILogger CreateLogger(string categoryName) => new WriterLogger(this, ShortName(categoryName));

        public void Dispose()
        {
        }

        private static string ShortName(string category)
        {
            var dot = category.LastIndexOf('.');
            return dot < 0 ? category : category[(dot + 1)..];
        }

        private void Write(string line)
        {
            lock (_gate)
            {
                writer.WriteLine(line);
                writer.Flush();
            }
        }

        private sealed class WriterLogger(WriterLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var level = logLevel switch
                {
                    LogLevel.Trace => "trce",
                    LogLevel.Debug => "dbug",
                    LogLevel.Information => "info",
                    LogLevel.Warning => "warn",
                    LogLevel.Error => "fail",
                    _ => "crit",
                };
                var message = formatter(state, exception).ReplaceLineEndings(" ");
                if (exception is not null)
                {
                    message += $" ({exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")})";
                }

                provider.Write($"{level}: {category}: {message}");
            }
        }
    }
}
