using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EtcdServerless.Etcd.Tests.Client;

/// <summary>Fake logger that records event ids and messages so tests can see what the code decided.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(EventId Id, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((eventId, formatter(state, exception)));
}
