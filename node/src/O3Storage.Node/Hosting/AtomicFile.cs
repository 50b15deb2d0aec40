using O3Storage.Node.Interop;

namespace O3Storage.Node.Hosting;

/// <summary>Durable small-file replace: write a temporary file, fsync it, rename over the target, fsync the directory.</summary>
internal static class AtomicFile
{
    /// <param name="mode">The file's permissions from its creation on (e.g. 0600 for a key), else the process's default.</param>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temporary = path + ".tmp";
        File.Delete(temporary); // a leftover keeps its mode: made anew, the file has the one asked for
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (mode is { } unixMode && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = unixMode;
        }

        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        // The rename is durable only once the directory entry itself is flushed.
        Interop.Libc.FsyncDirectory(directory);
    }
}
