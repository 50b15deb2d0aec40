// Owns: the node's last log events in memory, for the dashboard's "recent events": only the node's own
// category (NodeLog, stable event ids), Information and above, at most Capacity, the oldest dropped.
// Thread-safe; the log goes on to the console, journal and file as before.
using Microsoft.Extensions.Logging;

namespace O3Storage.Node.Diagnostics;

/// <summary>One log event as the dashboard shows it.</summary>
public sealed record RecentEvent(DateTimeOffset Time, string Level, int EventId, string Message);

internal sealed class RecentEvents(TimeProvider time) : ILoggerProvider
{
    public const int Capacity = 100;

    /// <summary>The category of NodeLog's messages (the node's own, not ASP.NET's or DotNext's).</summary>
    public const string Category = "o3storage";

    private readonly Queue<RecentEvent> _events = new();

    /// <summary>The events kept, newest first.</summary>
    public IReadOnlyList<RecentEvent> Newest()
    {
        lock (_events)
        {
            return [.. _events.Reverse()];
        }
    }

    public void Add(RecentEvent entry)
    {
        lock (_events)
        {
            if (_events.Count == Capacity)
            {
                _events.Dequeue();
            }

            _events.Enqueue(entry);
        }
    }

    public ILogger CreateLogger(string categoryName) => categoryName == Category ? new Recorder(this, time) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Recorder(RecentEvents events, TimeProvider time) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel is >= LogLevel.Information and not LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                events.Add(new RecentEvent(time.GetUtcNow(), logLevel.ToString().ToLowerInvariant(), eventId.Id, formatter(state, exception)));
            }
        }
    }
}
