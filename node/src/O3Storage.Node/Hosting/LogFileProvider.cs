using Microsoft.Extensions.Logging;

namespace O3Storage.Node.Hosting;

/// <summary>Routes every enabled log event to a <see cref="LogFile"/>; the factory's filters apply as for the console.</summary>
internal sealed class LogFileProvider(LogFile file, TimeProvider time) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new FileLogger(file, time, categoryName);

    public void Dispose() => file.Dispose();

    private sealed class FileLogger(LogFile file, TimeProvider time, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                file.Write(LogFile.Format(time.GetUtcNow(), logLevel, category, eventId, formatter(state, exception), exception));
            }
        }
    }
}
