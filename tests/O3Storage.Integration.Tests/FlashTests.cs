using System.Security.Cryptography;
using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// o3ctl flash onto loop devices (real block devices over files): an image shaped like ours (MBR, a
/// FAT32 O3BOOT, data after it) and its .bmap made by bmaptool; the card holds the image's bytes and the
/// written o3storage.txt; a second card reuses the join token; a mounted disk, the system's root disk and
/// an image that does not match its map are refused with the card left as it was.
/// </summary>
public sealed class FlashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-it-flash-").FullName;
    private readonly List<string> _loops = [];

    private const long BootOffset = 2048 * 512;
    private const long DataOffset = 526336L * 512;

    public void Dispose()
    {
        foreach (string loop in _loops)
        {
            _ = Shell($"umount {loop} 2>/dev/null; losetup -d {loop}");
        }

        Directory.Delete(_directory, recursive: true);
    }

    private (int Exit, string Output) Shell(string script)
    {
        var info = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        using var process = System.Diagnostics.Process.Start(info)!;
        string text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        output.WriteLine($"$ {script}\n{text}");
        return (process.ExitCode, text.Trim());
    }

    private string Loop(string file)
    {
        (int exit, string device) = Shell($"truncate -s 400M {file} && losetup --find --show {file}");
        Assert.True(exit == 0 && device.StartsWith("/dev/loop", StringComparison.Ordinal), $"no loop device: {device}");
        _loops.Add(device);
        return device;
    }

    private static string Sha(string path, long offset, long length)
    {
        using FileStream stream = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Position = offset;
        byte[] bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Convert.ToHexString(SHA256.HashData(bytes));
    }

    [Fact]
    public async Task Flash_OntoLoopDevices_WritesAndVerifiesTheImage_BootConfig_RefusesDisksInUse()
    {
        // An image shaped like ours: MBR, FAT32 O3BOOT at 1 MiB (256 MiB), 3 MiB of data in the second partition.
        Assert.Equal(0, Shell("""
            set -e
            truncate -s 320M test.img
            printf 'label: dos\nstart=2048, size=524288, type=c\nstart=526336, type=83\n' | sfdisk -q test.img
            truncate -s 256M boot.vfat && mkfs.vfat -F 32 -n O3BOOT boot.vfat >/dev/null
            dd if=boot.vfat of=test.img bs=1M seek=1 conv=notrunc status=none && rm boot.vfat
            head -c 3M /dev/urandom | dd of=test.img bs=1M seek=300 conv=notrunc status=none
            bmaptool create -o test.img.bmap test.img
            echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO3test owner@laptop' > id.pub
            """).Exit);
        string image = Path.Combine(_directory, "test.img");
        string tokenFile = Path.Combine(_directory, "shop.token");
        using var ctl = new O3ctl(output, "127.0.0.1:1", key: null);

        string card = Loop("card.bin");
        JsonElement flashed = await ctl.JsonAsync(0, "flash", image, card, "--cluster", "shop", "--expected-nodes", "5", "--hostname", "shelf-a",
            "--ssh-key", Path.Combine(_directory, "id.pub"), "--token-file", tokenFile, "--yes");
        Assert.Equal((true, true, true, true), (flashed.GetProperty("verified").GetBoolean(), flashed.GetProperty("bmap").GetBoolean(),
            flashed.GetProperty("join_token_made").GetBoolean(), flashed.GetProperty("authorized_keys").GetBoolean()));
        Assert.Equal(BootOffset, flashed.GetProperty("boot_partition_offset").GetInt64());
        Assert.True(flashed.GetProperty("mapped_bytes").GetInt64() < flashed.GetProperty("image_bytes").GetInt64());

        // The data partition is the image's, byte for byte; the boot partition has the files.
        string backing = Path.Combine(_directory, "card.bin");
        Assert.Equal(Sha(image, DataOffset, (320L << 20) - DataOffset), Sha(backing, DataOffset, (320L << 20) - DataOffset));
        string token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        Assert.Matches("^[0-9a-f]{32}$", token);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        string config = Shell($"MTOOLS_SKIP_CHECK=1 mtype -i {card}@@{BootOffset} ::/o3storage.txt 2>/dev/null").Output;
        Assert.Contains("cluster_name=shop", config);
        Assert.Contains($"join_token={token}", config);
        Assert.Contains("expected_nodes=5", config);
        Assert.Contains("hostname=shelf-a", config);
        Assert.Contains("owner@laptop", Shell($"MTOOLS_SKIP_CHECK=1 mtype -i {card}@@{BootOffset} ::/authorized_keys 2>/dev/null").Output);
        Assert.Contains("O3BOOT", Shell($"MTOOLS_SKIP_CHECK=1 mlabel -s -i {card}@@{BootOffset} :: 2>/dev/null").Output);

        // The node's own check of the file it will read at first boot.
        string copied = Path.Combine(_directory, "o3storage.txt");
        await File.WriteAllTextAsync(copied, config + "\n");
        Assert.Contains("shop", (await Tool.RunAsync(output, new Dictionary<string, string?>(), NodeBinary.Path, "boot-config", copied)));

        // A second card of the same cluster: the same token, from the file.
        string second = Loop("card2.bin");
        JsonElement again = await ctl.JsonAsync(0, "flash", image, second, "--cluster", "shop", "--token-file", tokenFile, "--yes");
        Assert.False(again.GetProperty("join_token_made").GetBoolean());
        Assert.Contains($"join_token={token}", Shell($"MTOOLS_SKIP_CHECK=1 mtype -i {second}@@{BootOffset} ::/o3storage.txt 2>/dev/null").Output);

        // A mounted disk: refused before anything is written.
        string mounted = Loop("mounted.bin");
        Assert.Equal(0, Shell($"mkfs.ext4 -q {mounted} && mkdir -p mnt && mount {mounted} mnt && echo kept > mnt/file").Exit);
        string before = Sha(Path.Combine(_directory, "mounted.bin"), 0, 1 << 20);
        Assert.Contains("is mounted on", (await ctl.RefusedAsync(2, "flash", image, mounted, "--yes", "--token-file", tokenFile)).GetProperty("error").GetString());
        Assert.Equal(before, Sha(Path.Combine(_directory, "mounted.bin"), 0, 1 << 20));
        Assert.Equal("kept", Shell("cat mnt/file").Output);

        // The disk holding the running system's root file system (when / is on a disk: not in every container).
        (_, string rootDisk) = Shell("""dev=$(awk '$5=="/" {print $3}' /proc/self/mountinfo | head -1); p=$(readlink -f /sys/dev/block/$dev 2>/dev/null) || exit 0; [ -e "$p/partition" ] && p=$(dirname "$p"); [ -n "$p" ] && echo /dev/$(basename "$p")""");
        if (rootDisk.StartsWith("/dev/", StringComparison.Ordinal) && File.Exists(rootDisk))
        {
            string refusal = (await ctl.RefusedAsync(2, "flash", image, rootDisk, "--yes", "--token-file", tokenFile)).GetProperty("error").GetString()!;
            Assert.True(refusal.Contains("root file system", StringComparison.Ordinal) || refusal.Contains("is mounted on", StringComparison.Ordinal), refusal);
        }
        else
        {
            output.WriteLine($"/ is not on a disk here ({rootDisk}): the root-disk refusal is covered by the unit tests");
        }

        // An image that does not match its map (a damaged download): refused, exit 1.
        Assert.Equal(0, Shell("cp test.img damaged.img && cp test.img.bmap damaged.img.bmap && printf 'X' | dd of=damaged.img bs=1 seek=$((300*1024*1024+5)) conv=notrunc status=none").Exit);
        string third = Loop("card3.bin");
        Assert.Contains("does not match its block map", (await ctl.RefusedAsync(1, "flash", Path.Combine(_directory, "damaged.img"), third, "--yes", "--token-file", tokenFile)).GetProperty("error").GetString());

        // Without --yes and no terminal to ask on: nothing happens.
        Assert.Contains("--yes", (await ctl.RefusedAsync(2, "flash", image, third, "--token-file", tokenFile)).GetProperty("error").GetString());
    }
}
