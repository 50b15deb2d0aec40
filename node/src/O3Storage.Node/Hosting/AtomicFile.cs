using O3Storage.Node.Interop;

namespace O3Storage.Node.Hosting;

/// <summary>Durable small-file replace: write a temporary file, fsync it, rename over the target, fsync the directory.</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        string directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        string temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        // The rename is durable only once the directory entry itself is flushed.
        Interop.Libc.FsyncDirectory(directory);
    }
}
