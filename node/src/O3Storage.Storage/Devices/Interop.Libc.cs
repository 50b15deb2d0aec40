using System.Runtime.InteropServices;

namespace O3Storage.Storage.Devices;

/// <summary>The few libc calls Tmds.LibC does not bind, and ioctl numbers it does not define.</summary>
internal static partial class Libc
{
    public const int LOCK_EX = 2;
    public const int LOCK_NB = 4;
    public const int FALLOC_FL_ZERO_RANGE = 0x10; // same on every Linux architecture

    // Generic Linux ioctl encoding, identical on x86_64 and aarch64 (64-bit size_t).
    public const int BLKSSZGET = 0x1268;              // _IO(0x12, 104): logical sector size (int)
    public const int BLKDISCARD = 0x1277;             // _IO(0x12, 119): uint64_t range[2]
    public const uint BLKGETSIZE64 = 0x80081272;      // _IOR(0x12, 114, size_t): size in bytes

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);
}
