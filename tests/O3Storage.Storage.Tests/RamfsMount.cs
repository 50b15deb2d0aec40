using System.Diagnostics;

namespace O3Storage.Storage.Tests;

/// <summary>A ramfs mounted for one test: a file system without O_DIRECT (tmpfs has it since Linux 6.6). Needs root.</summary>
internal sealed class RamfsMount : IDisposable
{
    public RamfsMount()
    {
        Path = Directory.CreateTempSubdirectory("o3-ramfs-").FullName;
        using Process mount = Process.Start("mount", ["-t", "ramfs", "ramfs", Path])!;
        mount.WaitForExit();
        if (mount.ExitCode != 0)
        {
            Directory.Delete(Path);
            Assert.Fail($"mount -t ramfs failed (exit {mount.ExitCode}): this test runs as root, like `make test`");
        }
    }

    public string Path { get; }

    public void Dispose()
    {
        using Process umount = Process.Start("umount", ["-l", Path])!;
        umount.WaitForExit();
        Directory.Delete(Path, recursive: true);
    }
}
