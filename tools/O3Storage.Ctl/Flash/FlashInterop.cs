// Owns: the two libc calls flashing needs that .NET does not offer: open(2) with O_EXCL, which the kernel
// refuses (EBUSY) for a block device something has mounted or claimed, and posix_fadvise(2), so the
// verification reads the card, not the page cache.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace O3Storage.Ctl.Flash;

internal static partial class FlashInterop
{
    private const int ORdWr = 0x2;
    private const int OExcl = 0x80;
    private const int OCloExec = 0x80000;
    private const int PosixFadvDontNeed = 4;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(SafeFileHandle fd, long offset, long length, int advice);

    /// <summary>Opens <paramref name="path"/> for reading and writing, exclusively for a block device.</summary>
    public static SafeFileHandle OpenExclusive(string path, bool blockDevice)
    {
        int fd = Open(path, ORdWr | OCloExec | (blockDevice ? OExcl : 0));
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new CtlException(ExitCode.Usage, errno == 16 ? $"{path} is busy: something has it mounted or open (unmount it first)" : $"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}",
                errno == 13 ? "writing a disk needs root: run it with sudo" : null);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Drops the cached pages of <paramref name="handle"/>, so the next reads come from the device.</summary>
    public static void DropCache(SafeFileHandle handle) => _ = Fadvise(handle, 0, 0, PosixFadvDontNeed);
}
