// Owns: a raw block device or a preallocated file, opened O_DIRECT|O_DSYNC|O_CLOEXEC through libc
// (.NET's FileOptions cannot express O_DIRECT), exclusively locked with flock so a second process
// fails fast, with O_EXCL added on block devices so a mounted partition is refused by the kernel.
// A second descriptor without O_DSYNC (opened only once the lock is held) carries bulk payload
// writes, made durable together by one fdatasync: a 64 MiB blob costs one flush, not sixty-four.
// Faults: every failure is a typed StorageException that names the path and the OS error.
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace O3Storage.Storage.Devices;

public sealed unsafe class LibcBlockDevice : IBlockDevice
{
    private const int FileAlignmentBytes = 4096;
    private int _fd;
    private int _bulkFd;

    private LibcBlockDevice(int fd, int bulkFd, string path, bool isBlockDevice, bool directIo, long capacityBytes, int sectorSizeBytes)
    {
        _fd = fd;
        _bulkFd = bulkFd;
        Path = path;
        IsBlockDevice = isBlockDevice;
        DirectIo = directIo;
        CapacityBytes = capacityBytes;
        SectorSizeBytes = sectorSizeBytes;
        AlignmentBytes = Math.Max(sectorSizeBytes, FileAlignmentBytes);
    }

    public string Path { get; }

    public bool IsBlockDevice { get; }

    public bool DirectIo { get; }

    public long CapacityBytes { get; }

    public int SectorSizeBytes { get; }

    public int AlignmentBytes { get; }

    public string Description => $"{Path} ({(IsBlockDevice ? "block device" : "file")}, {CapacityBytes} bytes, {(DirectIo ? "O_DIRECT" : "buffered")})";

    /// <summary>Creates (or grows) a file-backed device of <paramref name="capacityBytes"/>, reserving its blocks with fallocate.</summary>
    public static void CreateFile(string path, long capacityBytes)
    {
        if (capacityBytes <= 0 || capacityBytes % FileAlignmentBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), capacityBytes, $"must be a positive multiple of {FileAlignmentBytes}");
        }

        int fd = OpenRaw(path, O_RDWR | O_CREAT | O_CLOEXEC);
        try
        {
            if (fallocate(fd, 0, 0, capacityBytes) != 0)
            {
                int error = errno;
                // Some file systems (tmpfs on old kernels, some FUSE) cannot reserve: a sparse file still works.
                if (error != EOPNOTSUPP || ftruncate(fd, capacityBytes) != 0)
                {
                    throw new DeviceException($"cannot size {path} to {capacityBytes} bytes: {Describe(errno)}");
                }
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for exclusive use. Without O_DIRECT support (ramfs, older tmpfs) the device opens
    /// buffered with O_DSYNC unless <paramref name="requireDirectIo"/>.
    /// </summary>
    public static LibcBlockDevice Open(string path, bool requireDirectIo)
    {
        int baseFlags = O_RDWR | O_DSYNC | O_CLOEXEC;
        int fd = TryOpen(path, baseFlags | O_DIRECT, out int openError);
        bool directIo = fd >= 0;
        if (!directIo)
        {
            if (openError != EINVAL)
            {
                throw OpenFailure(path, openError);
            }

            if (requireDirectIo)
            {
                throw new DeviceException($"{path}: the file system does not support O_DIRECT (ramfs, tmpfs before Linux 6.6, some FUSE); put the device on a real disk or partition");
            }

            fd = TryOpen(path, baseFlags, out openError);
            if (fd < 0)
            {
                throw OpenFailure(path, openError);
            }
        }

        try
        {
            stat status;
            if (fstat(fd, &status) != 0)
            {
                throw new DeviceException($"cannot stat {path}: {Describe(errno)}");
            }

            bool isBlock = (status.st_mode & S_IFMT) == S_IFBLK;
            bool isFile = (status.st_mode & S_IFMT) == S_IFREG;
            if (!isBlock && !isFile)
            {
                throw new DeviceException($"{path} is neither a block device nor a regular file");
            }

            if (isBlock)
            {
                // Reopen with O_EXCL: the kernel then refuses a partition that is mounted or held by another opener.
                _ = close(fd);
                fd = TryOpen(path, baseFlags | (directIo ? O_DIRECT : 0) | O_EXCL, out openError);
                if (fd < 0)
                {
                    throw openError == 16 // EBUSY
                        ? new DeviceInUseException($"{path} is in use (mounted, or opened by another process)")
                        : OpenFailure(path, openError);
                }
            }

            if (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                throw error == EWOULDBLOCK
                    ? new DeviceInUseException($"{path} is in use by another o3storage process")
                    : new DeviceException($"cannot lock {path}: {Describe(error)}");
            }

            long capacity;
            int sectorSize = 512;
            if (isBlock)
            {
                ulong size;
                if (ioctl(fd, unchecked((int)Libc.BLKGETSIZE64), &size) != 0)
                {
                    throw new DeviceException($"cannot read the size of {path}: {Describe(errno)}");
                }

                int sector;
                if (ioctl(fd, Libc.BLKSSZGET, &sector) == 0 && sector > 0)
                {
                    sectorSize = sector;
                }

                capacity = (long)size;
            }
            else
            {
                capacity = status.st_size;
            }

            capacity -= capacity % Math.Max(sectorSize, FileAlignmentBytes);
            int bulkFd = TryOpen(path, O_RDWR | O_CLOEXEC | (directIo ? O_DIRECT : 0), out openError);
            if (bulkFd < 0)
            {
                throw OpenFailure(path, openError);
            }

            var device = new LibcBlockDevice(fd, bulkFd, path, isBlock, directIo, capacity, sectorSize);
            fd = -1;
            return device;
        }
        finally
        {
            if (fd >= 0)
            {
                _ = close(fd);
            }
        }
    }

    public void Read(long offsetBytes, Span<byte> destination)
    {
        CheckRange(offsetBytes, destination.Length);
        fixed (byte* buffer = destination)
        {
            Transfer(_fd, offsetBytes, buffer, destination.Length, write: false);
        }
    }

    public void Write(long offsetBytes, ReadOnlySpan<byte> source)
    {
        CheckRange(offsetBytes, source.Length);
        fixed (byte* buffer = source)
        {
            Transfer(_fd, offsetBytes, buffer, source.Length, write: true);
        }
    }

    public void WriteUnsynced(long offsetBytes, ReadOnlySpan<byte> source)
    {
        CheckRange(offsetBytes, source.Length);
        fixed (byte* buffer = source)
        {
            Transfer(_bulkFd, offsetBytes, buffer, source.Length, write: true);
        }
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        while (fdatasync(_bulkFd) != 0)
        {
            int error = errno;
            if (error != 4) // EINTR
            {
                // Never retried: after a failed flush the kernel may have dropped the dirty data (fsyncgate).
                throw new DeviceException($"fdatasync of {Path} failed: {Describe(error)}");
            }
        }
    }

    /// <summary>pread/pwrite until all of <paramref name="length"/> is moved, retrying only EINTR and short transfers.</summary>
    private void Transfer(int fd, long offsetBytes, byte* buffer, int length, bool write)
    {
        int done = 0;
        while (done < length)
        {
            ssize_t n = write
                ? pwrite(fd, buffer + done, (size_t)(length - done), offsetBytes + done)
                : pread(fd, buffer + done, (size_t)(length - done), offsetBytes + done);
            if (n < 0)
            {
                int error = errno;
                if (error == 4) // EINTR
                {
                    continue;
                }

                // After a failed write the page cache and device may disagree (fsyncgate): never retry blindly.
                throw (write, error == ENOSPC) switch
                {
                    (true, true) => new StorageFullException($"{Path} is full (ENOSPC writing {length} bytes at {offsetBytes}); the file system under a file device is out of space"),
                    (true, false) => new DeviceException($"write of {length} bytes at {offsetBytes} to {Path} failed: {Describe(error)}"),
                    _ => new DeviceException($"read of {length} bytes at {offsetBytes} from {Path} failed: {Describe(error)}"),
                };
            }

            if (n == 0)
            {
                throw new DeviceException($"{(write ? "write" : "read")} at {offsetBytes + done} on {Path} hit the end of the device (truncated?)");
            }

            done += (int)n;
        }
    }

    public void Discard(long offsetBytes, long lengthBytes)
    {
        CheckRange(offsetBytes, lengthBytes);
        if (IsBlockDevice)
        {
            ulong* range = stackalloc ulong[2];
            range[0] = (ulong)offsetBytes;
            range[1] = (ulong)lengthBytes;
            _ = ioctl(_fd, Libc.BLKDISCARD, range); // unsupported on some cards: nothing to do then
        }
        else if (fallocate(_fd, Libc.FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, offsetBytes, lengthBytes) != 0)
        {
            // Zeroing keeps the blocks fallocate reserved (a hole would give them back to the file
            // system, and a later write could then fail with ENOSPC); punch where zeroing is unsupported.
            _ = fallocate(_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offsetBytes, lengthBytes);
        }
    }

    public void Dispose()
    {
        int bulkFd = Interlocked.Exchange(ref _bulkFd, -1);
        if (bulkFd >= 0)
        {
            _ = close(bulkFd);
        }

        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = close(fd); // also releases the flock
        }
    }

    private void CheckRange(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (offset < 0 || length < 0 || offset % AlignmentBytes != 0 || length % AlignmentBytes != 0 || offset + length > CapacityBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"IO at {offset}+{length} is unaligned or outside {Description}");
        }
    }

    private static int TryOpen(string path, int flags, out int error)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = name)
        {
            int fd = open(p, flags, 0);
            error = fd < 0 ? errno : 0;
            return fd;
        }
    }

    private static int OpenRaw(string path, int flags)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = name)
        {
            int fd = open(p, flags, 0x180); // 0600
            return fd >= 0 ? fd : throw OpenFailure(path, errno);
        }
    }

    private static DeviceException OpenFailure(string path, int error) => new($"cannot open {path}: {Describe(error)}");

    private static string Describe(int error) => new Win32Exception(error).Message;
}
