using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Speech.Tests;

/// <summary>Keeps formatted log messages, for asserting what a client logged.</summary>
internal sealed class CountingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));
}
