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

    // The same on x86_64 and aarch64 (a per-thread clock, uapi/linux/time.h).
    private const int CLOCK_THREAD_CPUTIME_ID = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clock, out Timespec value);

    /// <summary>
    /// The CPU time the calling thread has used (clock_gettime(CLOCK_THREAD_CPUTIME_ID)): what its work
    /// cost, without the time it waited for a core or for I/O.
    /// </summary>
    public static TimeSpan ThreadCpuTime()
    {
        if (ClockGetTime(CLOCK_THREAD_CPUTIME_ID, out Timespec now) != 0)
        {
            throw new IOException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        return TimeSpan.FromTicks((now.Seconds * TimeSpan.TicksPerSecond) + (now.Nanoseconds / TimeSpan.NanosecondsPerTick));
    }

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
