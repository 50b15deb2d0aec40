using System.ComponentModel;
using System.Runtime.InteropServices;

namespace O3Storage.Node.Interop;

internal static partial class Libc
{
    private const int O_RDONLY = 0;
    // O_DIRECTORY is deliberately not used: its value differs between x86_64 (0x10000) and aarch64
    // (0x4000); a plain read-only open of a directory is all fsync needs. O_CLOEXEC is 0x80000 on both.
    private const int O_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>fsync(2) on a directory, so renames and creations inside it survive a power cut.</summary>
    public static void FsyncDirectory(string path)
    {
        int fd = Open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path}: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }
}
