// Owns: the optional --log-file copy of the log (the image's /var/log/o3storage/o3storage.log).
// Assumes: low volume (events, not requests), so each line is written and flushed under a lock.
// Faults: a failed write (a full /var/log) drops that line and never stops the node; the file is
// kept under RotateBytes by moving it to PATH.1, so a small root file system never fills with logs.
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace O3Storage.Node.Hosting;

internal sealed class LogFile : IDisposable
{
    public const long DefaultRotateBytes = 10L * 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly string _path;
    private readonly long _rotateBytes;
    private FileStream? _stream;
    private bool _disposed;

    private LogFile(string path, long rotateBytes, FileStream stream)
    {
        _path = path;
        _rotateBytes = rotateBytes;
        _stream = stream;
    }

    /// <summary>Opens (appending) or creates the file; a path that cannot be written is a StartupException.</summary>
    public static LogFile Open(string path, long rotateBytes = DefaultRotateBytes)
    {
        try
        {
            return new LogFile(path, rotateBytes, OpenAppend(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--log-file: cannot write {path}: {e.Message}");
        }
    }

    public void Write(string line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_lock)
        {
            if (_disposed)
            {
                return; // a log event racing the node's exit
            }

            try
            {
                // After a failed write the file is reopened; it rotates only when it is full.
                _stream ??= OpenAppend(_path);
                if (_stream.Length > 0 && _stream.Length + bytes.Length > _rotateBytes)
                {
                    Rotate();
                }

                _stream.Write(bytes);
                _stream.Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Dropped: the journal (stdout) still has the line, and the next write tries again.
                _stream?.Dispose();
                _stream = null;
            }
        }
    }

    private void Rotate()
    {
        _stream!.Dispose();
        _stream = null;
        File.Move(_path, _path + ".1", overwrite: true);
        _stream = OpenAppend(_path);
    }

    private static FileStream OpenAppend(string path) =>
        new(path, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            Share = FileShare.Read | FileShare.Delete,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
        });

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _stream?.Dispose();
            _stream = null;
        }
    }

    /// <summary>One line per event: UTC time, level, category and event id, message; exceptions follow, indented.</summary>
    public static string Format(DateTimeOffset time, LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var line = new StringBuilder(128)
            .Append(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
            .Append(' ').Append(LevelName(level))
            .Append(' ').Append(category).Append('[').Append(eventId.Id).Append("] ")
            .Append(message);
        if (exception is not null)
        {
            foreach (string exceptionLine in exception.ToString().Split('\n'))
            {
                line.Append("\n    ").Append(exceptionLine.TrimEnd('\r'));
            }
        }

        return line.ToString();
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
