using O3Storage.Storage.Devices;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>The real libc device on real files: O_DIRECT, exclusive locking, the tmpfs fallback.</summary>
public sealed class LibcBlockDeviceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-dev-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void FileDevice_UsesDirectIo_AndAStoreSurvivesReopen()
    {
        string path = Path.Combine(_directory, "blobs.dev");
        LibcBlockDevice.CreateFile(path, DeviceBytes(8));
        byte[] data = Bytes(new Random(3), 50_000);
        using (LibcBlockDevice device = LibcBlockDevice.Open(path, requireDirectIo: false))
        {
            Assert.True(device.DirectIo, $"expected O_DIRECT on {path} (file system of /tmp supports it)");
            Assert.False(device.IsBlockDevice);
            Assert.Equal(DeviceBytes(8), device.CapacityBytes);
            using BlobStore store = FormatSmall(device);
            store.Put(Id(1), data);
        }

        using (LibcBlockDevice device = LibcBlockDevice.Open(path, requireDirectIo: true))
        {
            using BlobStore store = BlobStore.Open(device);
            Assert.Equal(data, store.ReadAll(Id(1)));
            Assert.True(store.Stats().DirectIo);
        }
    }

    [Fact]
    public void SecondOpenOfTheSameDevice_FailsFastWithAClearMessage()
    {
        string path = Path.Combine(_directory, "blobs.dev");
        LibcBlockDevice.CreateFile(path, DeviceBytes(4));
        using LibcBlockDevice first = LibcBlockDevice.Open(path, requireDirectIo: false);

        var error = Assert.Throws<DeviceInUseException>(() => LibcBlockDevice.Open(path, requireDirectIo: false));

        Assert.Contains("in use by another o3storage process", error.Message);
    }

    [Fact]
    public void NoODirectFileSystem_FallsBackToBufferedIo_OrIsRefusedWhenDirectIoIsRequired()
    {
        using var ramfs = new RamfsMount();
        string path = Path.Combine(ramfs.Path, "blobs.dev");
        LibcBlockDevice.CreateFile(path, DeviceBytes(4));

        var error = Assert.Throws<DeviceException>(() => LibcBlockDevice.Open(path, requireDirectIo: true));
        Assert.Contains("does not support O_DIRECT", error.Message);

        using LibcBlockDevice device = LibcBlockDevice.Open(path, requireDirectIo: false);
        Assert.False(device.DirectIo);
        using BlobStore store = FormatSmall(device);
        store.Put(Id(1), [9, 8, 7]);
        Assert.Equal([9, 8, 7], store.ReadAll(Id(1)));
    }

    [Fact]
    public void MissingDevice_IsAClearError()
    {
        var error = Assert.Throws<DeviceException>(() => LibcBlockDevice.Open(Path.Combine(_directory, "nope"), requireDirectIo: false));
        Assert.Contains("No such file or directory", error.Message);
    }

    [Fact]
    public void DirectoryAsDevice_IsRefused()
    {
        Exception error = Assert.ThrowsAny<StorageException>(() => LibcBlockDevice.Open(_directory, requireDirectIo: false));
        Assert.Matches("(Is a directory|neither a block device nor a regular file)", error.Message);
    }

    [Fact]
    public void FormatAndCompaction_KeepTheFileReservation()
    {
        string path = Path.Combine(_directory, "blobs.dev");
        LibcBlockDevice.CreateFile(path, DeviceBytes(4));
        using LibcBlockDevice device = LibcBlockDevice.Open(path, requireDirectIo: false);
        using BlobStore store = FormatSmall(device);
        for (int i = 0; i < 40; i++)
        {
            store.Put(Id(i), new byte[20_000]);
            store.Delete(Id(i));
        }

        // st_blocks counts 512-byte blocks actually allocated: zeroing keeps them, punching holes would not.
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%b", path]) { RedirectStandardOutput = true })!;
        long allocated = long.Parse(stat.StandardOutput.ReadToEnd().Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
        stat.WaitForExit();
        Assert.True(allocated >= DeviceBytes(4), $"only {allocated} of {DeviceBytes(4)} bytes still allocated");
    }
}
